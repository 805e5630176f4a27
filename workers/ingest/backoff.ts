/**
 * Exponential reconnect back-off: initialMs, 2x, 4x ... capped at maxMs. A source that then runs healthily for
 * healthyAfterMs starts again from initialMs, so one glitch a day never waits the maximum.
 */
export class Backoff {
  private attempt = 0;
  private healthySince: number | undefined;

  constructor(
    private readonly options: { initialMs: number; maxMs: number; healthyAfterMs: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** Delay before the next attempt; each call doubles the following one. */
  next(): number {
    this.healthySince = undefined;
    const delay = Math.min(this.options.maxMs, this.options.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return delay;
  }

  /** Call for every good frame: after healthyAfterMs of them the back-off is reset. */
  healthy(): void {
    if (this.attempt === 0) return;
    const now = this.now();
    this.healthySince ??= now;
    if (now - this.healthySince >= this.options.healthyAfterMs) this.reset();
  }

  reset(): void {
    this.attempt = 0;
    this.healthySince = undefined;
  }

  get attempts(): number {
    return this.attempt;
  }
}
