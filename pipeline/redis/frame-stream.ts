import type { ChainableCommander, Redis } from 'ioredis';
import type { FrameEnd, FrameMeta } from '../wire/v1.js';
import {
  autoclaimReply,
  compareEntryIds,
  decodeFrameFields,
  encodeFrameEndFields,
  encodeFrameFields,
  execValues,
  liveXaddReply,
  pendingEntries,
  streamReadReply,
  type FrameEntry,
  type RawStreamEntry,
} from './codec.js';
import { FRAME_CONSUMER_GROUP, keys, streamIdOfKey } from './keys.js';
import { runScript } from './lua-scripts.js';

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
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class FramePublisher {
  readonly key: string;
  private groupReady = false;

  constructor(
    private readonly redis: Redis,
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
      if ((await this.redis.xlen(this.key)) < this.options.losslessQueueLength) return;
      await sleep(pause);
      pause = Math.min(20, pause * 2);
    }
  }

  async publish(meta: FrameMeta, pixels: Buffer): Promise<string> {
    await this.ensureGroup();
    const fields = encodeFrameFields(meta, pixels);
    if (this.options.mode === 'lossless') {
      const [id, depth] = execValues(await this.redis.multi().xadd(this.key, '*', ...fields).xlen(this.key).exec());
      this.options.onQueueDepth?.(Number(depth));
      return String(id);
    }
    const reply = await runScript(this.redis, 'live-xadd', [this.key], [this.options.liveQueueLength, FRAME_CONSUMER_GROUP, ...fields]);
    const { id, stale, depth } = liveXaddReply(reply);
    if (stale > 0) this.options.onStaleDrop?.(stale);
    this.options.onQueueDepth?.(depth);
    return id;
  }

  /** The end marker is never trimmed away by a later frame: nothing follows it. */
  async publishEnd(end: FrameEnd): Promise<string> {
    await this.ensureGroup();
    return (await this.redis.xadd(this.key, '*', ...encodeFrameEndFields(end))) as string;
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
export async function ensureConsumerGroup(redis: Redis, key: string, group = FRAME_CONSUMER_GROUP, startId = '0'): Promise<void> {
  try {
    await redis.xgroup('CREATE', key, group, startId, 'MKSTREAM');
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('BUSYGROUP')) throw error;
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
  private readonly groupsReady = new Set<string>();

  constructor(
    private readonly redis: Redis,
    private readonly options: { consumer: string; claimIdleMs: number },
  ) {}

  /**
   * XREADGROUP '>' over the given streams: only entries no consumer has seen. Needs a dedicated connection while
   * blockMs > 0. A stream whose key was deleted (stream removed, then re-added) gets its group re-created.
   */
  async read(streamIds: string[], options: { count: number; blockMs: number }): Promise<FrameDelivery[]> {
    if (streamIds.length === 0) return [];
    await this.ensureGroups(streamIds);
    const streamKeys = streamIds.map((id) => keys.frames(id));
    let reply: unknown;
    try {
      reply = await this.redis.callBuffer(
        'XREADGROUP', 'GROUP', FRAME_CONSUMER_GROUP, this.options.consumer,
        'COUNT', options.count, 'BLOCK', options.blockMs,
        'STREAMS', ...streamKeys, ...streamIds.map(() => '>'),
      );
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOGROUP')) {
        this.groupsReady.clear();
        return [];
      }
      throw error;
    }
    const deliveries: FrameDelivery[] = [];
    for (const { key, entries } of streamReadReply<Buffer>(reply)) {
      const streamId = streamIdOfKey(key);
      for (const raw of entries) {
        const delivery = await this.decode(streamId, raw, 1);
        if (delivery) deliveries.push(delivery);
      }
    }
    return deliveries;
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
