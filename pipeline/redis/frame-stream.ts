import type { ChainableCommander } from 'ioredis';
import type { FrameEnd, FrameMeta } from '../wire/v1.js';
import type { RedisClient } from './client.js';
import {
  autoclaimReply,
  compareEntryIds,
  decodeFrameFields,
  encodeFrameEndFields,
  encodeFrameFields,
  publishFrameReply,
  pendingEntries,
  takeNewestReply,
  FIELD,
  type FrameEntry,
  type RawStreamEntry,
} from './codec.js';
import { FRAME_CONSUMER_GROUP, keys, streamIdOfKey } from './keys.js';
import { defineScripts, nameScriptsIn, runScript } from './lua-scripts.js';
import { execPerNode } from './per-node.js';
import { describeError, PosestreamError } from '../errors.js';
import { retryTransient } from './retry.js';
import { StreamReads } from './stream-reads.js';
import type { ReplicaGuard } from './replica-guard.js';
import { commit, type ReplicaWait } from './transaction.js';

/**
 * Frame transport: one Redis stream per camera (keys.frames), pixels as one binary field.
 *
 * Bounds. live: XADD trims to exactly liveQueueLength entries (`MAXLEN =`; `~` only trims whole radix-tree nodes of
 * ~100 entries, which for 0.7 MB frames would be ~70 MB per stream), and entries trimmed before any worker read them
 * are counted as stale drops. lossless: the publisher waits while XLEN >= losslessQueueLength, which holds the
 * source. Workers XACK+XDEL what they finish, so XLEN is "queued + in flight".
 *
 * Resume and fencing. Every frame is published by scripts/publish-frame-2.lua, which also writes the stream's ingest
 * record (keys.ingestRecord: next seq, source position, owner's fencing token) in the same atomic step. resume()
 * takes a new fencing token (the first time) and says where the source continues: right after the last position
 * Redis accepted, with the seq after it. A publish with a superseded token is refused (IngestFencedError), a seq
 * Redis already accepted is not written again (a retry of a publish whose reply was lost), and a lossless seq past
 * the record's (Redis lost frames it had accepted: restored to an older state) is refused with IngestResyncError so
 * the source restarts from the record.
 */

export interface FramePublisherOptions {
  streamId: string;
  mode: 'live' | 'lossless';
  liveQueueLength: number;
  losslessQueueLength: number;
  /** The publishing process, written into the ingest record (for operators). */
  owner?: string;
  /**
   * Fingerprint of the source settings (URL, fps, ...): a record written for other settings gives its seq but no
   * position to skip to (the new source starts at its beginning).
   */
  source?: string;
  /** The first seq of a stream that has no ingest record yet (default 0). */
  initialSeq?: () => Promise<number>;
  /** Called with the number of frames a live XADD trimmed before any worker read them. */
  onStaleDrop?: (count: number) => void;
  /** Live: a frame Redis refused for lack of memory (OOM) was dropped. */
  onOomDrop?: () => void;
  /** Redis refuses writes for lack of memory (true, once per spell) / accepts them again (false). */
  onOom?: (refusing: boolean, error?: unknown) => void;
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

/** Where a (re)started source continues: the seq of its next frame, and the last source position already in Redis. */
export interface ResumePoint {
  seq: number;
  /** Skip every frame at or before this source position (ns); undefined: start at the source's beginning. */
  afterPtsNs?: number;
}

/** A newer ingest took the stream (its fencing token is newer): this one must stop publishing it at once. */
export class IngestFencedError extends PosestreamError {
  constructor(streamId: string, cause?: unknown) {
    super('PS_INGEST_FENCED', `stream "${streamId}" was taken over by another ingest process; this one stops publishing it`, { cause });
  }
}

/** Lossless: Redis lost frames it had accepted (restored to an older state); the source must restart from the record. */
export class IngestResyncError extends PosestreamError {
  constructor(streamId: string, cause?: unknown) {
    super('PS_INGEST_RESYNC', `stream "${streamId}": Redis no longer holds frames it had accepted; resuming from its ingest record`, { cause, retryable: true });
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const OOM = /\bOOM\b/;
/** Longest sleep between XLEN polls of a full lossless stream. */
const FULL_POLL_MAX_MS = 50;
/** Lossless frames refused for memory are retried this often (the source waits). */
const OOM_RETRY_MS = 500;

export function isRedisOom(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    if (OOM.test(current.message)) return true;
    current = current.cause;
  }
  return false;
}

export class FramePublisher {
  readonly key: string;
  readonly recordKey: string;
  private groupReady = false;
  /** This publisher's fencing token, taken by the first resume(); 0 = none yet. */
  private token = 0;
  private refusingForMemory = false;
  /** Entries in the stream after this publisher's last publish or XLEN (lossless: at most that many now). */
  private knownDepth: number | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: FramePublisherOptions,
  ) {
    this.key = keys.frames(options.streamId);
    this.recordKey = keys.ingestRecord(options.streamId);
  }

  /**
   * Where the source (re)starts, from the ingest record. The first call takes a new fencing token (so the previous
   * owner, whatever became of it, can publish nothing more); later calls (a source restarted after a failure) only
   * read, and throw IngestFencedError when a newer owner took the stream meanwhile.
   */
  async resume(signal?: AbortSignal): Promise<ResumePoint> {
    this.knownDepth = undefined;
    const fields = ['token', 'seq', 'pts', 'source'] as const;
    const read = await this.retrying(async () => {
      if (this.token !== 0) return (await this.redis.hmget(this.recordKey, ...fields)) as Array<string | null>;
      const { values } = await commit(this.redis, (tx) =>
        tx.hincrby(this.recordKey, 'token', 1).hmget(this.recordKey, ...fields).hset(this.recordKey, 'owner', this.options.owner ?? ''),
      );
      this.token = Number(values[0]);
      return values[1] as Array<string | null>;
    }, signal);
    const [token, seq, pts, source] = read;
    if (Number(token ?? 0) > this.token) throw new IngestFencedError(this.options.streamId);
    const sameSource = this.options.source === undefined || source === null || source === this.options.source;
    if (!sameSource || source === null) {
      // Positions from here on belong to these settings; an earlier position does not apply to them.
      await this.retrying(async () => {
        const tx = this.redis.multi().hset(this.recordKey, 'source', this.options.source ?? '');
        if (!sameSource) tx.hdel(this.recordKey, 'pts');
        await tx.exec();
      }, signal);
    }
    const nextSeq = seq === null ? await (this.options.initialSeq?.() ?? Promise.resolve(0)) : Number(seq);
    const afterPtsNs = sameSource && pts !== null && pts !== '' ? Number(pts) : undefined;
    return { seq: nextSeq, ...(afterPtsNs === undefined ? {} : { afterPtsNs }) };
  }

  /**
   * lossless: resolves once the stream has room (XLEN < losslessQueueLength); live: resolves at once. Rejects with
   * the signal's reason when aborted. The depth each publish returns is remembered: only this publisher adds entries
   * (a newer owner fences it) and workers only remove them, so while that depth is under the bound there is room
   * without asking Redis. A full stream is polled (sleeps growing to FULL_POLL_MAX_MS) until a quarter of it has
   * drained, so one wait lets several frames through; the three quarters still queued keep the workers busy
   * meanwhile. (Polling XLEN before every frame cost ~8 round trips per frame at full load.)
   */
  async waitForRoom(signal?: AbortSignal): Promise<void> {
    if (this.options.mode === 'live') return;
    const bound = this.options.losslessQueueLength;
    const xlen = () => this.retrying(() => this.redis.xlen(this.key), signal);
    signal?.throwIfAborted();
    this.knownDepth ??= await xlen();
    if (this.knownDepth < bound) return;
    const drained = bound - Math.max(1, Math.floor(bound / 4));
    for (let pause = 1; ; pause = Math.min(FULL_POLL_MAX_MS, pause * 2)) {
      await sleep(pause);
      signal?.throwIfAborted();
      const depth = await xlen();
      if (depth <= drained) {
        this.knownDepth = depth;
        return;
      }
    }
  }

  /**
   * Publishes a frame at source position `ptsNs` (undefined: unknown). A failing step is retried while the failure is
   * transient (a cluster failover, Redis restarting), so the source is held back rather than the stream restarted;
   * a retry after a publish that was applied but not confirmed is recognised by its seq and not written twice. When
   * Redis refuses the write for memory (OOM), a lossless frame waits and is retried until Redis takes it; a live
   * frame is dropped (onOomDrop) and publish resolves with ''. `signal` ends the retries. Errors name the step.
   */
  async publish(meta: FrameMeta, pixels: Buffer, signal?: AbortSignal, ptsNs?: number): Promise<string> {
    const fields = encodeFrameFields(meta, pixels);
    for (;;) {
      try {
        const id = await this.retrying(async () => {
          await this.ensureGroup();
          return this.publishFrame(meta.seq, ptsNs, fields);
        }, signal);
        this.memoryAccepted();
        return id;
      } catch (error) {
        if (!isRedisOom(error)) throw this.explain(error, `publishing frame ${meta.seq} of stream "${this.options.streamId}"`);
        this.memoryRefused(error);
        if (this.options.mode === 'live') {
          this.options.onOomDrop?.();
          return '';
        }
        signal?.throwIfAborted();
        await sleep(OOM_RETRY_MS);
      }
    }
  }

  /**
   * The end marker is never trimmed away by a later frame: nothing follows it. Through the ingest record like a
   * frame: refused when fenced, and written once per (last seq, reason), so a file restarted after its end was
   * published (a crash before its state said `ended`) does not end twice. Resolves with '' when it was already there.
   */
  async publishEnd(end: FrameEnd): Promise<string> {
    try {
      // A stream stopped before its source ever opened has no token yet; the caller holds the stream's job.
      if (this.token === 0 && this.options.owner !== undefined) await this.resume();
      return await this.retrying(async () => {
        await this.ensureGroup();
        return this.runPublish(`${end.lastSeq}:${end.reason}`, '', -1, encodeFrameEndFields(end));
      });
    } catch (error) {
      throw this.explain(error, `publishing the end of stream "${this.options.streamId}"`);
    }
  }

  private publishFrame(seq: number, ptsNs: number | undefined, fields: Array<string | Buffer>): Promise<string> {
    const maxlen = this.options.mode === 'live' ? this.options.liveQueueLength : 0;
    return this.runPublish(seq, ptsNs === undefined ? '' : String(ptsNs), maxlen, fields);
  }

  /** scripts/publish-frame-2.lua (maxlen: live MAXLEN, 0 lossless, -1 end marker), with WAIT for lossless replicas. */
  private async runPublish(seq: number | string, pts: string, maxlen: number, fields: Array<string | Buffer>): Promise<string> {
    const args = [this.token, seq, pts, maxlen, FRAME_CONSUMER_GROUP, ...fields];
    const wait = this.losslessWait();
    let reply: unknown;
    try {
      if (wait && wait.replicas > 0) {
        defineScripts(this.redis);
        const { values, replicated } = await commit(this.redis, (tx) => runScript(tx, 'publish-frame', [this.key, this.recordKey], args), wait);
        this.options.replicas?.settle(replicated);
        reply = values[0];
      } else {
        reply = await runScript(this.redis, 'publish-frame', [this.key, this.recordKey], args);
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message.includes('PS_INGEST_FENCED')) throw new IngestFencedError(this.options.streamId, error);
      if (message.includes('PS_INGEST_RESYNC')) throw new IngestResyncError(this.options.streamId, error);
      throw error;
    }
    const { id, stale, depth } = publishFrameReply(reply);
    if (stale > 0) this.options.onStaleDrop?.(stale);
    this.knownDepth = depth;
    this.options.onQueueDepth?.(depth);
    return id;
  }

  private memoryRefused(error: unknown): void {
    if (this.refusingForMemory) return;
    this.refusingForMemory = true;
    this.options.onOom?.(true, error);
  }

  private memoryAccepted(): void {
    if (!this.refusingForMemory) return;
    this.refusingForMemory = false;
    this.options.onOom?.(false);
  }

  /** Names the operation, and the script by its file rather than its hash; our own errors pass unchanged. */
  private explain(error: unknown, operation: string): unknown {
    if (error instanceof PosestreamError) return error;
    return new Error(`${operation}: ${describeError(nameScriptsIn(error))}`, { cause: error });
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
