/**
 * Riding through a Redis Cluster failover. A cluster client fails a command whose node went away instead of
 * re-sending it (see client.ts); for an idempotent step (or one whose repetition the consumer recognises, like a
 * frame published twice with the same seq) the caller retries it here until the cluster serves the slot again.
 */

/** Errors that say "not now" rather than "never": the node or the slot is unavailable, or Redis is loading. */
const TRANSIENT = [
  /connection is closed/i,
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH/,
  /too many cluster redirections/i,
  /cluster isn't ready|None of startup nodes is available|Cluster is ended/i,
  /(^|: )(CLUSTERDOWN|TRYAGAIN|MOVED|ASK|LOADING|MASTERDOWN|READONLY|NOREPLICAS)\b/,
  /Command timed out/i,
  /not confirmed by a replica/i,
  /Stream isn't writeable/i,
];

/** Looks at the error and its causes (a CommitError wraps what Redis said). */
export function isTransientRedisError(error: unknown): boolean {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 5; depth += 1) {
    const message = current instanceof Error ? current.message : String(current);
    const code = (current as NodeJS.ErrnoException).code ?? '';
    if (TRANSIENT.some((pattern) => pattern.test(message) || pattern.test(code))) return true;
    current = current instanceof Error ? current.cause : undefined;
  }
  return false;
}

/** First retry after this long, doubling up to RETRY_MAX_PAUSE_MS: a failover takes seconds. */
const RETRY_FIRST_PAUSE_MS = 50;
export const RETRY_MAX_PAUSE_MS = 1_000;

/**
 * Runs `step` until it succeeds or fails with an error that is not transient (then that error is thrown), or the
 * signal aborts. `onRetry` hears about each transient failure (the first one is worth a log line).
 */
export async function retryTransient<T>(step: () => Promise<T>, options: { signal?: AbortSignal; onRetry?: (error: unknown, attempt: number) => void } = {}): Promise<T> {
  let pause = RETRY_FIRST_PAUSE_MS;
  for (let attempt = 1; ; attempt += 1) {
    options.signal?.throwIfAborted();
    try {
      return await step();
    } catch (error) {
      if (!isTransientRedisError(error)) throw error;
      options.onRetry?.(error, attempt);
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(RETRY_MAX_PAUSE_MS, pause * 2);
    }
  }
}
