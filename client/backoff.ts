/**
 * Reconnect delays: exponential with jitter (so many clients of a restarted gateway do not come back in lock-step),
 * from `initialMs` doubling up to `maxMs`, back to `initialMs` once a connection worked. Pure: `random` is injectable.
 */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** Each delay is scaled by a random factor in [1 - jitter, 1 + jitter]. */
  jitter?: number;
}

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly jitter: number;
  private nextMs: number;

  constructor(options: BackoffOptions = {}, private readonly random: () => number = Math.random) {
    this.initialMs = Math.max(1, options.initialMs ?? 500);
    this.maxMs = Math.max(this.initialMs, options.maxMs ?? 10_000);
    this.jitter = Math.min(1, Math.max(0, options.jitter ?? 0.25));
    this.nextMs = this.initialMs;
  }

  /** The delay before the next attempt; each call doubles the following one, up to maxMs. */
  next(): number {
    const base = this.nextMs;
    this.nextMs = Math.min(this.maxMs, this.nextMs * 2);
    return Math.round(base * (1 - this.jitter + 2 * this.jitter * this.random()));
  }

  reset(): void {
    this.nextMs = this.initialMs;
  }
}
