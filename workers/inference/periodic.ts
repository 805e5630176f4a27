import { describeError } from '../../pipeline/errors.js';
import type { Logger } from '../../pipeline/obs/logger.js';

/** Runs fn every `ms` (never overlapping itself), logging failures once per outage rather than per tick. */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failing = false;
  private current: Promise<void> = Promise.resolve();

  constructor(
    private readonly ms: number,
    private readonly fn: () => Promise<void>,
    private readonly logger: Logger,
    /** The warning when fn fails, e.g. "stream ownership update failed". */
    private readonly failure: string,
  ) {}

  /** One tick now, then every `ms`. */
  async start(): Promise<void> {
    await this.tick();
    this.schedule();
  }

  /** No more ticks; resolves when the running one has finished. */
  stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    return this.current;
  }

  private async tick(): Promise<void> {
    try {
      await this.fn();
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.warn({ err: describeError(error) }, this.failure);
      this.failing = true;
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.current = this.tick().finally(() => this.schedule());
    }, this.ms);
  }
}
