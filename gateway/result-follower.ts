import type { Logger } from '../pipeline/obs/logger.js';
import type { ResultEntry } from '../pipeline/redis/codec.js';
import type { ResultReader } from '../pipeline/redis/result-stream.js';
import { FollowLoop } from '../pipeline/follow-loop.js';

/**
 * The gateway's single Redis read loop for results: one blocking XREAD over every registered stream, however many
 * clients watch them (clients never cause Redis reads of their own, except a fromStart replay). A stream joins at
 * its current tail id rather than '$', so nothing published between "added" and the next XREAD is missed.
 */

const LEAVE_GRACE_MS = 30_000;

/** Entries per stream per read: a catch-up burst reaches clients in slices their queues can absorb. */
const READ_COUNT = 64;

export interface ResultFollowerOptions {
  logger: Logger;
  blockMs?: number;
  onEntries: (streamId: string, entries: ResultEntry[]) => void;
  /** Newest entry id of a results stream, read on a non-blocking connection (the reader's one is held by XREAD). */
  tailId: (streamId: string) => Promise<string>;
  /** Ends the pending blocking read early (CLIENT UNBLOCK), so a new stream is read at once, not after blockMs. */
  interrupt?: () => Promise<void>;
}

export class ResultFollower {
  private readonly cursors = new Map<string, string>();
  /** Streams no longer registered -> when to stop following them. */
  private readonly leaving = new Map<string, number>();
  private readonly blockMs: number;
  private readonly loop: FollowLoop;

  constructor(
    private readonly reader: ResultReader,
    private readonly options: ResultFollowerOptions,
  ) {
    this.blockMs = options.blockMs ?? 1_000;
    this.loop = new FollowLoop({ idle: () => this.cursors.size === 0, readOnce: () => this.readOnce(), logger: options.logger, what: 'results' });
  }

  /**
   * Follows these streams from now on; new ones start at their current tail. A stream that left the registry is
   * still followed until its end-of-stream arrives (the ingest publishes it after the removal) or LEAVE_GRACE_MS.
   */
  async setStreams(streamIds: Iterable<string>): Promise<void> {
    const wanted = new Set(streamIds);
    const now = Date.now();
    for (const id of this.cursors.keys()) {
      if (!wanted.has(id) && !this.leaving.has(id)) this.leaving.set(id, now + LEAVE_GRACE_MS);
    }
    for (const id of wanted) this.leaving.delete(id);
    let added = false;
    for (const id of wanted) {
      if (this.cursors.has(id)) continue;
      const tail = await this.options.tailId(id);
      if (!this.cursors.has(id)) {
        this.cursors.set(id, tail);
        added = true;
      }
    }
    this.loop.poke();
    if (added) await this.options.interrupt?.().catch(() => undefined);
  }

  start(): void {
    this.loop.start();
  }

  /** The caller disconnects the blocking connection afterwards, which ends a pending XREAD at once. */
  async stop(): Promise<void> {
    this.loop.stop();
  }

  async stopped(): Promise<void> {
    await this.loop.stopped();
  }

  private forget(streamId: string): void {
    this.leaving.delete(streamId);
    this.cursors.delete(streamId);
  }

  private async readOnce(): Promise<void> {
    const now = Date.now();
    for (const [id, deadline] of this.leaving) if (deadline < now) this.forget(id);
    const batches = await this.reader.follow(new Map(this.cursors), this.blockMs, READ_COUNT);
    for (const { streamId, entries, lastId } of batches) {
      // A stream removed while the read was in flight stays removed.
      if (!this.cursors.has(streamId)) continue;
      this.cursors.set(streamId, lastId);
      if (entries.length === 0) continue;
      this.options.onEntries(streamId, entries);
      if (this.leaving.has(streamId) && entries.some((entry) => entry.result.kind === 'eos')) this.forget(streamId);
      // Let socket write callbacks run between bursts, so a burst is paced by clients' queues, not dropped.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
