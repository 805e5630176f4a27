import type { Logger } from '../pipeline/obs/logger.js';
import type { ResultEntry, ResultReader } from '../pipeline/redis/result-stream.js';

/**
 * The gateway's single Redis read loop for results: one blocking XREAD over every registered stream, however many
 * clients watch them (clients never cause Redis reads of their own, except a fromStart replay). A stream joins at
 * its current tail id rather than '$', so nothing published between "added" and the next XREAD is missed.
 */

/** Entries per stream per read: a catch-up burst reaches clients in slices their queues can absorb. */
const READ_COUNT = 64;

export interface ResultFollowerOptions {
  logger: Logger;
  blockMs?: number;
  onEntries: (streamId: string, entries: ResultEntry[]) => void;
  /** Newest entry id of a results stream, read on a non-blocking connection (the reader's one is held by XREAD). */
  tailId: (streamId: string) => Promise<string>;
}

export class ResultFollower {
  private readonly cursors = new Map<string, string>();
  private readonly blockMs: number;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly reader: ResultReader,
    private readonly options: ResultFollowerOptions,
  ) {
    this.blockMs = options.blockMs ?? 1_000;
  }

  /** Follows exactly these streams from now on; new ones start at their current tail. */
  async setStreams(streamIds: Iterable<string>): Promise<void> {
    const wanted = new Set(streamIds);
    for (const id of this.cursors.keys()) if (!wanted.has(id)) this.cursors.delete(id);
    for (const id of wanted) {
      if (this.cursors.has(id)) continue;
      const tail = await this.options.tailId(id);
      if (!this.cursors.has(id)) this.cursors.set(id, tail);
    }
    this.wake?.();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** The caller disconnects the blocking connection afterwards, which ends a pending XREAD at once. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
  }

  async stopped(): Promise<void> {
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      if (this.cursors.size === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      try {
        const batches = await this.reader.follow(new Map(this.cursors), this.blockMs, READ_COUNT);
        failures = 0;
        for (const { streamId, entries, lastId } of batches) {
          // A stream removed while the read was in flight stays removed.
          if (!this.cursors.has(streamId)) continue;
          this.cursors.set(streamId, lastId);
          if (entries.length === 0) continue;
          this.options.onEntries(streamId, entries);
          // Let socket write callbacks run between bursts, so a burst is paced by clients' queues, not dropped.
          await new Promise((resolve) => setImmediate(resolve));
        }
      } catch (error) {
        if (!this.running) break;
        failures += 1;
        if (failures === 1) this.options.logger.warn({ err: error }, 'reading results from redis failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 200 * failures)));
      }
    }
  }
}
