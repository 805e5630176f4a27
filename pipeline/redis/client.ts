import { Redis } from 'ioredis';
import type { Logger } from '../obs/logger.js';
import { redactUrl } from '../obs/redact.js';

export type { Redis };

/** Reconnect delays grow from 100 ms to this cap, so an outage costs a few connection attempts per minute at most. */
export const REDIS_RETRY_MAX_MS = 5_000;

/** Delay before reconnect attempt `attempt` (1-based): doubling from 100 ms, capped. */
export function redisRetryDelay(attempt: number): number {
  return Math.min(REDIS_RETRY_MAX_MS, 100 * 2 ** Math.min(attempt - 1, 16));
}

/**
 * For callers that must answer promptly and may not act later (the gateway's REST commands): a command fails at
 * once while the connection is down instead of waiting in the offline queue, one that was sent but not answered
 * fails when the connection drops (never re-sent after a reconnect) or after `ms`. Reconnecting still happens.
 */
function failFast(ms: number) {
  return { enableOfflineQueue: false, autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 0, commandTimeout: ms };
}

/**
 * The one way posestream opens Redis. Commands wait for a reconnect instead of failing (maxRetriesPerRequest null,
 * which BullMQ also requires), reconnects back off to REDIS_RETRY_MAX_MS, and an outage is logged once when it
 * starts ("redis at URL unreachable: ECONNREFUSED; retrying") and once when it ends, however many attempts it
 * takes: a down Redis must neither crash-loop the process nor flood the log. `failFastMs` opts out of waiting.
 */
export function createRedis(url: string, options: { name: string; logger: Logger; failFastMs?: number }): Redis {
  const safeUrl = redactUrl(url);
  const log = options.logger.child({ redis: options.name });
  const redis = new Redis(url, {
    connectionName: `posestream:${options.name}`,
    ...(options.failFastMs === undefined ? { maxRetriesPerRequest: null } : failFast(options.failFastMs)),
    retryStrategy: redisRetryDelay,
    // A replica promoted/demoted under us answers READONLY: reconnecting finds the new primary.
    reconnectOnError: (error) => error.message.startsWith('READONLY'),
  });
  let down = false;
  redis.on('error', (error: NodeJS.ErrnoException) => {
    if (down) return;
    down = true;
    const reason = error.code ?? error.message;
    log.warn({ url: safeUrl, reason }, `redis at ${safeUrl} unreachable: ${reason}; retrying`);
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    log.info({ url: safeUrl }, 'redis reachable again');
  });
  return redis;
}
