import type { Logger } from './obs/logger.js';

/**
 * The loop every Redis reader runs (the gateway's results and preview followers, the worker's frame reader): sleep
 * while there is nothing to read, otherwise one blocking read after another; a failing read is retried with growing
 * pauses (up to 5 s) and logged once per outage rather than per retry. The caller ends a pending read by
 * disconnecting its blocking connection (or by a short block time).
 */
export class FollowLoop {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly options: {
      /** True while there is nothing to read: the loop sleeps until poke(). */
      idle: () => boolean;
      /** One (blocking) read and its handling. */
      readOnce: () => Promise<void>;
      logger: Logger;
      /** For the warning: "reading <what> from redis failed; retrying". */
      what: string;
    },
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Wakes an idle loop (something to follow now, or stop). */
  poke(): void {
    this.wake?.();
  }

  stop(): void {
    this.running = false;
    this.poke();
  }

  async stopped(): Promise<void> {
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      if (this.options.idle()) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      try {
        await this.options.readOnce();
        failures = 0;
      } catch (error) {
        if (!this.running) break;
        failures += 1;
        if (failures === 1) this.options.logger.warn({ err: error }, `reading ${this.options.what} from redis failed; retrying`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 200 * failures)));
      }
    }
  }
}
