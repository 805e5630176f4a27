import type { Redis } from 'ioredis';
import { describeError } from '../../pipeline/errors.js';
import type { Logger } from '../../pipeline/obs/logger.js';
import type { FrameConsumer, FrameDelivery } from '../../pipeline/redis/frame-stream.js';
import type { ResultReader } from '../../pipeline/redis/result-stream.js';
import type { SeqGuard } from './result-builder.js';
import type { ResultStages } from './result-stages.js';
import { planLeases, StreamLeases } from './stream-leases.js';

export interface StreamOwnershipOptions {
  redis: Redis;
  processId: string;
  leaseMs: number;
  /** Streams the worker should serve (the registry's, plus recently removed ones). */
  wanted: () => Set<string>;
  /** Frames of the stream this process holds (batcher or in flight): a stream is handed back only when 0. */
  heldFrames: (streamId: string) => number;
  /** Takes frames into the batcher (duplicates of held ones are skipped there). */
  admit: (deliveries: FrameDelivery[]) => void;
  /** Claims every unacknowledged frame of a stream, however recently read (claimIdleMs 0). */
  takeover: FrameConsumer;
  /** Claims frames idle for claimIdleMs (a request that hung, a read lost in flight). */
  staleClaimer: FrameConsumer;
  results: ResultReader;
  guard: SeqGuard;
  stages: ResultStages;
  logger: Logger;
  /** A stream became readable (wakes the read loop). */
  onReadable: () => void;
}

/**
 * Which streams this worker owns and reads. Ownership is a lease per stream (StreamLeases); taking a stream
 * restores where it stands (the last published position for the SeqGuard, each result stage's committed state),
 * then claims what its previous owner left unacknowledged, oldest first, and only then reads new frames.
 * Rebalancing takes up to the fair share and hands extras back once their held frames are published. A stream
 * whose commit failed is re-synced the same way (its frames are claimed again and reprocessed from the committed
 * state), so neither the guard nor a stage stays ahead of what Redis holds.
 */
export class StreamOwnership {
  private readonly leases: StreamLeases;
  /** Owned streams that are read; a stream being handed back or re-synced is owned but not read. */
  private readonly readable = new Set<string>();
  private readonly releasing = new Set<string>();
  /** Owned streams whose last commit failed: not published, waiting for their held frames to settle. */
  private readonly resyncing = new Set<string>();
  private reading = true;

  constructor(private readonly options: StreamOwnershipOptions) {
    this.leases = new StreamLeases(options.redis, {
      processId: options.processId,
      leaseMs: options.leaseMs,
      onLost: (streamId) => {
        this.readable.delete(streamId);
        this.resyncing.delete(streamId);
        options.stages.release(streamId);
        options.logger.warn({ streamId }, 'stream lease lost; another worker owns it now');
      },
    });
  }

  get streams(): string[] {
    return this.leases.streams;
  }

  readableStreams(): string[] {
    return [...this.readable];
  }

  /** Frames of these streams may be taken in (owned, not being re-synced). */
  accepts(streamId: string): boolean {
    return this.leases.streams.includes(streamId) && !this.resyncing.has(streamId);
  }

  /** The streams whose results may be published now: the lease is surely ours and no re-sync is pending. */
  async confirm(streamIds: Set<string>): Promise<Set<string>> {
    const owned = await this.leases.confirm(streamIds);
    for (const id of this.resyncing) owned.delete(id);
    return owned;
  }

  /**
   * A commit of these streams failed: stop reading and publishing them until every frame held of them has settled,
   * then take them again from what Redis holds (next rebalance).
   */
  resync(streamIds: Iterable<string>): void {
    for (const id of streamIds) {
      if (!this.leases.streams.includes(id)) continue;
      this.readable.delete(id);
      this.resyncing.add(id);
    }
  }

  /** Renews leases, hands back what is no longer wanted or beyond the fair share, takes free streams up to it. */
  async rebalance(workersAlive: number): Promise<void> {
    await this.leases.renew();
    const wanted = this.options.wanted();
    for (const id of this.leases.streams) {
      if (!wanted.has(id) && this.options.heldFrames(id) === 0) await this.release(id);
    }
    for (const id of [...this.resyncing]) {
      if (this.options.heldFrames(id) > 0) continue;
      // A failure leaves the stream re-syncing: the next rebalance tries again.
      await this.restore(id, 'stream re-synced after a failed commit').catch((error: unknown) =>
        this.options.logger.warn({ streamId: id, err: describeError(error) }, 're-syncing a stream failed; retrying'),
      );
    }
    const plan = planLeases({ streams: wanted.size, workers: workersAlive, held: this.leases.streams.filter((id) => !this.releasing.has(id)) });
    for (const id of plan.release) {
      this.readable.delete(id);
      this.releasing.add(id);
    }
    for (const id of [...this.releasing]) {
      if (this.options.heldFrames(id) > 0) continue;
      this.releasing.delete(id);
      await this.release(id);
      this.options.logger.info({ streamId: id }, 'stream handed back for an even spread');
    }
    let room = plan.room;
    for (const id of shuffle([...wanted].filter((id) => !this.leases.streams.includes(id)))) {
      if (room <= 0 || !this.reading) break;
      if (await this.acquire(id)) room -= 1;
    }
  }

  /** Frames of owned streams that waited claimIdleMs without an ack (their read or request was lost). */
  async claimIdle(count: number): Promise<void> {
    const owned = [...this.readable];
    if (owned.length > 0) this.options.admit(await this.options.staleClaimer.claimStale(owned, count));
  }

  /** Stop: nothing is read any more (held frames still publish while the leases last). */
  stopReading(): void {
    this.reading = false;
    this.readable.clear();
  }

  async releaseAll(): Promise<void> {
    await Promise.all(this.leases.streams.map((id) => this.release(id)));
  }

  private async acquire(streamId: string): Promise<boolean> {
    if (!(await this.leases.tryAcquire(streamId))) return false;
    try {
      await this.restore(streamId, 'stream taken');
    } catch (error) {
      await this.release(streamId).catch(() => undefined);
      this.options.logger.warn({ streamId, err: describeError(error) }, 'taking a stream failed; handed back');
    }
    return true;
  }

  /**
   * Where the stream stands in Redis -> guard and stages; then its unacknowledged frames; then it is read. On a
   * failure the stream is left re-syncing (not published, not read), so the next rebalance tries again.
   */
  private async restore(streamId: string, message: string): Promise<void> {
    try {
      const newest = await this.options.results.newest(streamId);
      this.options.guard.seed(streamId, newest?.result.kind === 'pose' ? { seq: newest.result.seq, captureTs: newest.result.captureTs } : undefined);
      this.options.stages.release(streamId);
      await this.options.stages.acquire(streamId);
      // From here its results may be published again: what is claimed next is processed from the restored state.
      this.resyncing.delete(streamId);
      this.options.admit(await this.options.takeover.claimStale([streamId], 10_000));
    } catch (error) {
      this.resyncing.add(streamId);
      throw error;
    }
    if (!this.reading) return;
    this.readable.add(streamId);
    this.options.onReadable();
    this.options.logger.info({ streamId }, message);
  }

  private async release(streamId: string): Promise<void> {
    this.readable.delete(streamId);
    this.resyncing.delete(streamId);
    this.options.stages.release(streamId);
    await this.leases.release(streamId);
  }
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
