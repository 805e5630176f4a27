/**
 * Delay before retry `attempt` (1 = the first retry) of a webhook: exponential from initialMs, capped at maxMs,
 * with "full jitter" (uniform between 0 and that cap). Many events failing together at one endpoint (it restarted)
 * then come back spread out instead of as a synchronised burst. Written here rather than taken from a library:
 * it is one line, and the retry loop around it must own its timers so stop() can cancel them.
 */
export function retryDelayMs(attempt: number, options: { initialMs: number; maxMs: number }, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(random() * ceiling);
}

/**
 * Whether an HTTP status is worth retrying: server errors, 408 (timeout) and 429 (rate limited). Any other 4xx
 * says the request itself is wrong for the endpoint (bad secret, unknown hook), and retrying cannot help.
 */
export function retryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}
