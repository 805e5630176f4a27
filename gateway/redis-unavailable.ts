import { HttpError } from './http.js';

/**
 * REST commands go through a fail-fast Redis connection (createRedis failFastMs): a command Redis did not confirm
 * becomes 503 PS_REDIS_UNAVAILABLE at once, instead of a request that hangs and is applied whenever Redis returns.
 * Two cases, because they promise different things:
 * - not sent (the connection is down): nothing was changed;
 * - sent but unanswered (the connection dropped, or no reply within the timeout): not confirmed. A Redis that died
 *   never applies it later (the command is not re-sent after a reconnect); a Redis that only hangs may still apply
 *   it when it resumes, which no client can prevent, so the message says to look before retrying.
 */

const NOT_SENT = /enableOfflineQueue options is false/;
const UNANSWERED = /^(Command timed out|Connection is closed\.)$/;

export function redisUnavailable(error: unknown, timeoutMs: number): HttpError | undefined {
  if (!(error instanceof Error)) return undefined;
  if (NOT_SENT.test(error.message)) {
    return new HttpError(503, 'PS_REDIS_UNAVAILABLE', 'Redis is unreachable: nothing was read or changed; retry once /readyz reports ready');
  }
  if (error.name === 'MaxRetriesPerRequestError' || UNANSWERED.test(error.message)) {
    return new HttpError(
      503,
      'PS_REDIS_UNAVAILABLE',
      `Redis did not answer within ${timeoutMs / 1000} s: the request is not confirmed; if it was a change, GET /api/streams shows whether it took effect before you retry`,
    );
  }
  return undefined;
}
