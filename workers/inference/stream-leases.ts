import type { Redis } from 'ioredis';
import { keys } from '../../pipeline/redis/keys.js';
import { defineScripts, runScript } from '../../pipeline/redis/lua-scripts.js';

/**
 * One inference process owns a stream's frames at a time (keys.lease(id), PX leaseMs, renewed every leaseMs / 3).
 * Why: a consumer group alone would let two workers publish one stream's results out of order, and a dead worker's
 * frames would come back after newer ones. With one owner, results stay in seq order; a dead owner's lease
 * expires and the next owner first claims its unacknowledged frames (oldest first), then reads new ones.
 * Streams are spread evenly: each worker holds at most ceil(streams / live workers) and hands back extras
 * (after finishing what it holds of them) when more workers join.
 */

export interface LeasePlan {
  /** Streams to try to acquire (unowned ones, shuffled by the caller's choice), at most `room` will be taken. */
  room: number;
  /** Held streams to hand back to restore the even spread. */
  release: string[];
}

/** Pure: how many more streams this worker may take, and which of its streams it should give back. */
export function planLeases(input: { streams: number; workers: number; held: string[] }): LeasePlan {
  const fairShare = Math.ceil(input.streams / Math.max(1, input.workers));
  if (input.held.length > fairShare) {
    return { room: 0, release: [...input.held].sort().slice(fairShare) };
  }
  return { room: fairShare - input.held.length, release: [] };
}

export class StreamLeases {
  /** streamId -> local expiry (ms epoch): the lease is trusted only until then, minus a safety margin. */
  private held = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly options: { processId: string; leaseMs: number; onLost?: (streamId: string) => void },
  ) {
    defineScripts(redis);
  }

  get streams(): string[] {
    return [...this.held.keys()];
  }

  /**
   * True while the lease is surely still ours. Checked just before publishing: a worker that stalled past its lease
   * (another owner may have claimed the frames) publishes nothing, so the frames are not published twice.
   */
  owns(streamId: string, now = Date.now()): boolean {
    const expiry = this.held.get(streamId);
    return expiry !== undefined && now < expiry - this.options.leaseMs / 4;
  }

  /**
   * The given streams whose lease is ours: at once when the local expiry is comfortably ahead, otherwise after a
   * renewal round trip (a late timer or a busy event loop must not make a worker drop its own frames).
   */
  async confirm(streamIds: Iterable<string>): Promise<Set<string>> {
    const ids = [...streamIds];
    if (ids.some((id) => this.held.has(id) && !this.owns(id))) await this.renew();
    return new Set(ids.filter((id) => this.owns(id)));
  }

  async tryAcquire(streamId: string): Promise<boolean> {
    const startedAt = Date.now();
    const reply = await this.redis.set(keys.lease(streamId), this.options.processId, 'PX', this.options.leaseMs, 'NX');
    if (reply !== 'OK') return false;
    this.held.set(streamId, startedAt + this.options.leaseMs);
    return true;
  }

  /** Extends every held lease; returns the streams whose lease was lost (expired and taken, or deleted). */
  async renew(): Promise<string[]> {
    const ids = this.streams;
    if (ids.length === 0) return [];
    const startedAt = Date.now();
    const pipeline = this.redis.pipeline();
    // One script per lease (each its own hash slot), pipelined into one round trip.
    for (const id of ids) runScript(pipeline, 'renew-lease', [keys.lease(id)], [this.options.processId, this.options.leaseMs]);
    const replies = (await pipeline.exec()) ?? [];
    const lost: string[] = [];
    ids.forEach((id, i) => {
      const reply = replies[i];
      if (reply && !reply[0] && Number(reply[1]) === 1) this.held.set(id, startedAt + this.options.leaseMs);
      else if (reply && !reply[0] && this.held.delete(id)) {
        lost.push(id);
        this.options.onLost?.(id);
      }
      // A transport error leaves the local expiry as it was: owns() turns false by itself if it persists.
    });
    return lost;
  }

  async release(streamId: string): Promise<void> {
    this.held.delete(streamId);
    await runScript(this.redis, 'release-lease', [keys.lease(streamId)], [this.options.processId]);
  }

  async releaseAll(): Promise<void> {
    await Promise.all(this.streams.map((id) => this.release(id)));
  }

  /** Forgets a stream without touching Redis (it left the registry; its lease just expires). */
  forget(streamId: string): void {
    this.held.delete(streamId);
  }
}
