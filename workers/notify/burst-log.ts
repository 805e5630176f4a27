import type { Logger } from '../../pipeline/obs/logger.js';

/**
 * Logs a run of failures twice, however long it lasts: a warning at the first ("mqtt broker unreachable",
 * "dropping events for webhook X") and one line when it ends, with how many there were. A dead endpoint must not
 * flood the log; the exact counts are in the metrics.
 */
export class BurstLog {
  private count = 0;

  constructor(
    private readonly logger: Logger,
    private readonly messages: { first: string; ended: string },
  ) {}

  get active(): boolean {
    return this.count > 0;
  }

  /** One more failure; only the first of a burst is logged, with these fields. */
  hit(fields: Record<string, unknown> = {}): void {
    if (this.count === 0) this.logger.warn(fields, this.messages.first);
    this.count += 1;
  }

  /** Success: a running burst ends with one line saying how many failures it had. */
  end(fields: Record<string, unknown> = {}): void {
    if (this.count === 0) return;
    this.logger.info({ ...fields, count: this.count }, this.messages.ended);
    this.count = 0;
  }
}
