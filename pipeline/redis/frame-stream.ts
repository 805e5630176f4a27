import type { ChainableCommander } from 'ioredis';
import type { FrameEnd, FrameMeta } from '../wire/v1.js';
import type { RedisClient } from './client.js';
import {
  autoclaimReply,
  compareEntryIds,
  decodeFrameFields,
  encodeFrameEndFields,
  encodeFrameFields,
  liveXaddReply,
  pendingEntries,
  takeNewestReply,
  FIELD,
  type FrameEntry,
  type RawStreamEntry,
} from './codec.js';
import { FRAME_CONSUMER_GROUP, keys, streamIdOfKey } from './keys.js';
import { defineScripts, runScript } from './lua-scripts.js';
import { execPerNode } from './per-node.js';
import { retryTransient } from './retry.js';
import { StreamReads } from './stream-reads.js';
import type { ReplicaGuard } from './replica-guard.js';
import { commit, type ReplicaWait } from './transaction.js';

/**
 * Frame transport: one Redis stream per camera (keys.frames), pixels as one binary field.
 *
 * Bounds. live: XADD trims to exactly liveQueueLength entries (`MAXLEN =`; `~` only trims whole radix-tree nodes of
 * ~100 entries, which for 0.7 MB frames would be ~70 MB per stream), and entries trimmed before any worker read them
 * are counted as stale drops (scripts/live-xadd-1.lua). lossless: the publisher waits while XLEN >=
 * losslessQueueLength, which holds the GStreamer pull loop and through it the source. Workers XACK+XDEL what they
 * finish, so XLEN is "queued + in flight".
 */

export interface FramePublisherOptions {
  streamId: string;
  mode: 'live' | 'lossless';
  liveQueueLength: number;
  losslessQueueLength: number;
  /** Called with the number of frames a live XADD trimmed before any worker read them. */
  onStaleDrop?: (count: number) => void;
  /** Called after each frame with the entries now in the stream (queued + in flight). */
  onQueueDepth?: (depth: number) => void;
  /**
   * Lossless: each frame counts as published once the replicas it asks for have it (WAIT), so the failure of the
   * master cannot lose a frame the source has moved past (replica-guard.ts).
   */
  replicas?: ReplicaGuard;
  /** A step failed transiently (a cluster failover, a node restarting) and is retried: see retry.ts. */
  onRetry?: (error: unknown, attempt: number) => void;
}

/** take-newest reads at most this many unread entries of a live stream (ingest.liveQueueLength is at most 1000). */
const TAKE_NEWEST_READ_LIMIT = 1000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class FramePublisher {
  readonly key: string;
  private groupReady = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: FramePublisherOptions,
  ) {
    this.key = keys.frames(options.streamId);
  }

  /**
   * lossless: resolves once the stream has room (XLEN < losslessQueueLength), polling with short sleeps that grow
   * to 20 ms while workers are busy; live: resolves at once. Rejects with the signal's reason when aborted.
   */
  async waitForRoom(signal?: AbortSignal): Promise<void> {
    if (this.options.mode === 'live') return;
    let pause = 1;
    for (;;) {
      signal?.throwIfAborted();
      if ((await this.retrying(() => this.redis.xlen(this.key), signal)) < this.options.losslessQueueLength) return;
      await sleep(pause);
      pause = Math.min(20, pause * 2);
    }
  }

  /**
   * A failing step is retried while the failure is transient (a cluster failover), so the source is held back rather
   * than the stream restarted. A retry after a publish that was applied but not confirmed adds the frame twice; the
   * worker publishes one result per seq and drops the second copy (counted as stale). `signal` ends the retries.
   */
  async publish(meta: FrameMeta, pixels: Buffer, signal?: AbortSignal): Promise<string> {
    const fields = encodeFrameFields(meta, pixels);
    return this.retrying(async () => {
      await this.ensureGroup();
      return this.options.mode === 'lossless' ? this.publishLossless(fields) : this.publishLive(fields);
    }, signal);
  }

  /** The end marker is never trimmed away by a later frame: nothing follows it. */
  async publishEnd(end: FrameEnd): Promise<string> {
    return this.retrying(async () => {
      await this.ensureGroup();
      const { values } = await commit(this.redis, (tx) => tx.xadd(this.key, '*', ...encodeFrameEndFields(end)), this.losslessWait());
      return String(values[0]);
    });
  }

  private async publishLossless(fields: Array<string | Buffer>): Promise<string> {
    const { values, replicated } = await commit(this.redis, (tx) => tx.xadd(this.key, '*', ...fields).xlen(this.key), this.losslessWait());
    this.options.replicas?.settle(replicated);
    this.options.onQueueDepth?.(Number(values[1]));
    return String(values[0]);
  }

  private async publishLive(fields: Array<string | Buffer>): Promise<string> {
    const reply = await runScript(this.redis, 'live-xadd', [this.key], [this.options.liveQueueLength, FRAME_CONSUMER_GROUP, ...fields]);
    const { id, stale, depth } = liveXaddReply(reply);
    if (stale > 0) this.options.onStaleDrop?.(stale);
    this.options.onQueueDepth?.(depth);
    return id;
  }

  private losslessWait(): ReplicaWait | undefined {
    return this.options.mode === 'lossless' ? this.options.replicas?.waitFor(this.key) : undefined;
  }

  private retrying<T>(step: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return retryTransient(step, { ...(signal ? { signal } : {}), ...(this.options.onRetry ? { onRetry: this.options.onRetry } : {}) });
  }

  /** Creating the group before the first frame lets the live trim tell read from unread entries. */
  private async ensureGroup(): Promise<void> {
    if (this.groupReady) return;
    await ensureConsumerGroup(this.redis, this.key);
    this.groupReady = true;
  }
}

/**
 * XGROUP CREATE (frames: at id 0, so frames published before any worker started are still delivered); an existing
 * group keeps its position (BUSYGROUP is fine).
 */
export async function ensureConsumerGroup(redis: RedisClient, key: string, group = FRAME_CONSUMER_GROUP, startId = '0'): Promise<void> {
  try {
    await redis.xgroup('CREATE', key, group, startId, 'MKSTREAM');
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('BUSYGROUP')) throw error;
  }
}

/** Round-robin over a list that may change between calls: order() starts where the previous turn ended. */
class Turns {
  private start = 0;
  private length = 0;

  order<T>(items: T[]): T[] {
    this.length = items.length;
    if (items.length === 0) return items;
    const at = this.start % items.length;
    return [...items.slice(at), ...items.slice(0, at)];
  }

  advance(taken: number): void {
    this.start = this.length > 0 ? (this.start + taken) % this.length : 0;
  }
}

export interface FrameDelivery {
  streamId: string;
  entryId: string;
  entry: FrameEntry;
  /** 1 for a first delivery; more when the entry was claimed from a consumer that died. */
  deliveries: number;
}

export class FrameConsumer {
  /** Undecodable entries are acked and deleted (never retried forever), then reported here. */
  onBadEntry?: (streamId: string, entryId: string, error: Error) => void;
  /**
   * Streams whose read failed for another reason than a missing group. Their frames may be pending for this
   * consumer without it knowing (an XREADGROUP applied but its reply lost): the caller takes them from the pending
   * list before reading new ones (the worker re-syncs those streams).
   */
  onReadFailed?: (streamIds: string[], error: Error) => void;
  /** A live read dropped this many older unread frames of the stream (superseded by a newer one). */
  onSuperseded?: (streamId: string, count: number) => void;
  private readonly groupsReady = new Set<string>();
  private readonly reads: StreamReads;
  private readonly liveTurns = new Turns();

  constructor(
    private readonly redis: RedisClient,
    private readonly options: { consumer: string; claimIdleMs: number },
  ) {
    this.reads = new StreamReads(redis);
    // Pipelines made from this connection run the scripts (take-newest).
    defineScripts(redis);
  }

  /**
   * Reads new frames (entries no consumer has seen) of the given streams. Needs a dedicated connection.
   *
   * Live streams (`isLive`) are read newest first: take-newest-1.lua delivers each one's newest unread frame and
   * acknowledges and deletes the older unread ones (reported to onSuperseded), so a worker that fell behind infers
   * what the camera sees now. The other streams are read in order with XREADGROUP '>' (stream-reads.ts), up to
   * `count` entries each. When the live streams had nothing, one blocking XREADGROUP waits on all streams at once
   * (the live frames it returns are the ones that just arrived, so they are the newest).
   *
   * A stream whose key was deleted (stream removed, then re-added) gets its group re-created. Throws when every
   * stream's read failed; otherwise returns what was read and reports failures to onReadFailed.
   */
  async read(
    streamIds: string[],
    options: {
      count: number;
      blockMs: number;
      isLive?: (streamId: string) => boolean;
      /**
       * Live frames the caller has room for: with fewer than live streams, the read takes the newest of that many
       * streams, in turn (starting after the last one read), and reaches for the others only when those had none.
       * So a worker past capacity holds no frame that ages while it waits: the others stay in Redis, newest kept.
       */
      liveRoom?: number;
    },
  ): Promise<FrameDelivery[]> {
    if (streamIds.length === 0) return [];
    await this.ensureGroups(streamIds);
    const failed = new Map<string, Error>();
    const live = options.isLive ? this.liveTurns.order(streamIds.filter(options.isLive)) : [];
    const first = live.slice(0, Math.max(1, options.liveRoom ?? live.length));
    let newest = await this.takeNewest(first, failed);
    this.liveTurns.advance(first.length);
    if (newest.length === 0 && first.length < live.length) newest = await this.takeNewest(live.slice(first.length), failed);
    const inOrder = newest.length > 0 ? streamIds.filter((id) => !live.includes(id)) : streamIds.filter((id) => !failed.has(id));
    const deliveries: FrameDelivery[] = [...newest];
    if (inOrder.length > 0) {
      const read = await this.reads.read(
        inOrder.map((id) => ({ key: keys.frames(id), id: '>' })),
        { count: options.count, blockMs: newest.length > 0 ? 0 : options.blockMs, group: { name: FRAME_CONSUMER_GROUP, consumer: this.options.consumer } },
        true,
      );
      for (const { key, entries } of read.batches) {
        const streamId = streamIdOfKey(key);
        for (const raw of entries) {
          const delivery = await this.decode(streamId, raw, 1);
          if (delivery) deliveries.push(delivery);
        }
      }
      for (const [key, error] of read.failed) failed.set(streamIdOfKey(key), error);
    }
    this.reportFailures(streamIds, failed);
    return deliveries;
  }

  /** take-newest-1.lua on each live stream, pipelined (one round trip per node). Failures go to `failed`. */
  private async takeNewest(streamIds: string[], failed: Map<string, Error>): Promise<FrameDelivery[]> {
    const replies = await execPerNode(this.redis, streamIds, (id) => keys.frames(id), (pipeline, id) =>
      runScript(pipeline, 'take-newest', [keys.frames(id)], [FRAME_CONSUMER_GROUP, this.options.consumer, FIELD.pixels, TAKE_NEWEST_READ_LIMIT], { buffers: true }),
    );
    const deliveries: FrameDelivery[] = [];
    for (const streamId of streamIds) {
      const [error, reply] = replies.get(streamId) ?? [new Error('no reply'), null];
      if (error) {
        failed.set(streamId, error);
        continue;
      }
      const { entries, dropped } = takeNewestReply<Buffer>(reply);
      if (dropped > 0) this.onSuperseded?.(streamId, dropped);
      for (const raw of entries) {
        const delivery = await this.decode(streamId, raw, 1);
        if (delivery) deliveries.push(delivery);
      }
    }
    return deliveries;
  }

  private reportFailures(streamIds: string[], failed: Map<string, Error>): void {
    const lost: string[] = [];
    let lostError: Error | undefined;
    for (const [streamId, error] of failed) {
      if (error.message.includes('NOGROUP')) this.groupsReady.delete(streamId);
      else {
        lost.push(streamId);
        lostError ??= error;
      }
    }
    if (lostError) {
      this.onReadFailed?.(lost, lostError);
      if (lost.length === streamIds.length) throw lostError;
    }
  }

  /**
   * XAUTOCLAIM entries that another consumer took more than claimIdleMs ago and never acked (it died or hung).
   * Entries deleted meanwhile (a live trim) are dropped from the pending list by Redis itself.
   */
  async claimStale(streamIds: string[], count: number): Promise<FrameDelivery[]> {
    const deliveries: FrameDelivery[] = [];
    for (const streamId of streamIds) {
      const key = keys.frames(streamId);
      let cursor = '0-0';
      do {
        let reply: ReturnType<typeof autoclaimReply<Buffer>>;
        try {
          reply = autoclaimReply<Buffer>(
            await this.redis.callBuffer(
              'XAUTOCLAIM', key, FRAME_CONSUMER_GROUP, this.options.consumer, this.options.claimIdleMs, cursor,
              'COUNT', count - deliveries.length,
            ),
          );
        } catch (error) {
          if (error instanceof Error && error.message.startsWith('NOGROUP')) break;
          throw error;
        }
        cursor = reply.cursor;
        const claimed = reply.entries.filter((raw) => raw.fields !== null);
        const counts = claimed.length > 0 ? await this.deliveryCounts(key, claimed.map((raw) => raw.id)) : new Map<string, number>();
        for (const raw of claimed) {
          const delivery = await this.decode(streamId, raw, counts.get(raw.id) ?? 2);
          if (delivery) deliveries.push(delivery);
        }
      } while (cursor !== '0-0' && deliveries.length < count);
      if (deliveries.length >= count) break;
    }
    return deliveries;
  }

  /** XACK + XDEL inside the caller's MULTI, so a frame is gone exactly when its result is published. */
  ackInto(multi: ChainableCommander, delivery: FrameDelivery): void {
    const key = keys.frames(delivery.streamId);
    multi.xack(key, FRAME_CONSUMER_GROUP, delivery.entryId);
    multi.xdel(key, delivery.entryId);
  }

  private async deliveryCounts(key: string, ids: string[]): Promise<Map<string, number>> {
    const sorted = [...ids].sort(compareEntryIds);
    const rows = pendingEntries(await this.redis.xpending(key, FRAME_CONSUMER_GROUP, sorted[0]!, sorted[sorted.length - 1]!, ids.length * 2, this.options.consumer));
    return new Map(rows.map((row) => [row.id, row.deliveries]));
  }

  private async decode(streamId: string, { id: entryId, fields }: RawStreamEntry<Buffer>, deliveries: number): Promise<FrameDelivery | undefined> {
    try {
      if (fields === null) throw new Error('entry was deleted before it was read');
      return { streamId, entryId, entry: decodeFrameFields(fields), deliveries };
    } catch (error) {
      const key = keys.frames(streamId);
      await this.redis.multi().xack(key, FRAME_CONSUMER_GROUP, entryId).xdel(key, entryId).exec();
      this.onBadEntry?.(streamId, entryId, error instanceof Error ? error : new Error(String(error)));
      return undefined;
    }
  }

  private async ensureGroups(streamIds: string[]): Promise<void> {
    for (const streamId of streamIds) {
      if (this.groupsReady.has(streamId)) continue;
      await ensureConsumerGroup(this.redis, keys.frames(streamId));
      this.groupsReady.add(streamId);
    }
  }
}
