import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './client.js';
import type { StreamResult } from '../wire/v1.js';
import { decodeResultEntries, encodeResultEntry, streamEntries, type PreviewFrame, type ResultEntry } from './codec.js';
import { keys, PREVIEW_LENGTH, streamIdOfKey } from './keys.js';
import { execPerNode } from './per-node.js';
import { StreamReads } from './stream-reads.js';

/**
 * Pose results on Redis. results(id) is the durable, bounded record (late watchers replay it); preview(id) carries
 * result + frame pairs only while somebody watches frames, so the gateway can draw a result on exactly its frame.
 */

/** Results older than the age bound are trimmed at most this often per stream (XTRIM MINID ~ in the commit). */
export const AGE_TRIM_INTERVAL_MS = 5_000;

export class ResultPublisher {
  readonly retention: number;
  readonly maxAgeMs: number | undefined;
  private readonly trimmedAt = new Map<string, number>();

  /** `retention`: results kept per stream (count bound); `maxAgeSec`: none older than this (age bound). */
  constructor(options: { retention: number; maxAgeSec?: number }) {
    this.retention = options.retention;
    this.maxAgeMs = options.maxAgeSec === undefined ? undefined : options.maxAgeSec * 1000;
  }

  /**
   * Appends the result (and the preview entry) to the caller's MULTI, so it commits together with the frame ack.
   * Results use approximate trimming (cheap, small entries) by count at every XADD and by age (entry ids are Redis
   * milliseconds) every AGE_TRIM_INTERVAL_MS per stream; previews use exact trimming because `~` keeps whole
   * 100-entry stream nodes, which for frame-sized entries would be ~90 MB per stream instead of PREVIEW_LENGTH.
   */
  addInto(multi: ChainableCommander, result: StreamResult, preview?: PreviewFrame, now = Date.now()): void {
    const fields = encodeResultEntry(result, result.kind === 'pose' ? preview : undefined);
    const key = keys.results(result.streamId);
    multi.xadd(key, 'MAXLEN', '~', this.retention, '*', ...fields.result);
    if (this.maxAgeMs !== undefined && now - (this.trimmedAt.get(result.streamId) ?? 0) >= AGE_TRIM_INTERVAL_MS) {
      this.trimmedAt.set(result.streamId, now);
      multi.xtrim(key, 'MINID', '~', `${now - this.maxAgeMs}-0`);
    }
    if (fields.preview) multi.xadd(keys.preview(result.streamId), 'MAXLEN', PREVIEW_LENGTH, '*', ...fields.preview);
  }
}

/**
 * Which streams have a frame viewer (keys.viewers set by the gateway), cached briefly: the worker asks once per
 * batch and must not pay a round trip each time, and a preview that starts half a second late is harmless.
 */
export class ViewerCheck {
  private cache = new Map<string, { watched: boolean; at: number }>();

  constructor(
    private readonly redis: RedisClient,
    private readonly maxAgeMs = 500,
  ) {}

  async watched(streamIds: ReadonlySet<string> | readonly string[], now = Date.now()): Promise<Set<string>> {
    const stale = [...new Set(streamIds)].filter((id) => {
      const cached = this.cache.get(id);
      return !cached || now - cached.at > this.maxAgeMs;
    });
    if (stale.length > 0) {
      const replies = await execPerNode(this.redis, stale, keys.viewers, (pipeline, id) => pipeline.exists(keys.viewers(id)));
      for (const id of stale) {
        const reply = replies.get(id);
        this.cache.set(id, { watched: !reply?.[0] && Number(reply?.[1]) > 0, at: now });
      }
    }
    const result = new Set<string>();
    for (const id of streamIds) if (this.cache.get(id)?.watched) result.add(id);
    return result;
  }

  forget(streamId: string): void {
    this.cache.delete(streamId);
  }
}

export class ResultReader {
  /** Called for an entry that does not decode; it is skipped (the cursor still moves past it). */
  onBadEntry?: (streamId: string, entryId: string, error: Error) => void;
  private readonly reads: StreamReads;

  /**
   * `redis` should be a dedicated connection: follow() blocks it on one Redis. With `commands` (another connection)
   * interrupt() can end a pending follow() early.
   */
  constructor(
    private readonly redis: RedisClient,
    options: { commands?: RedisClient } = {},
  ) {
    this.reads = new StreamReads(redis, options.commands ? { commands: options.commands } : {});
  }

  /**
   * One page of retained results, oldest first: from the start, or strictly after `afterId`. Call again with the
   * last entryId until a page is shorter than `count` to read everything retained.
   */
  async replay(streamId: string, options: { afterId?: string; count?: number } = {}): Promise<ResultEntry[]> {
    const start = options.afterId ? `(${options.afterId}` : '-';
    const raw = streamEntries(await this.redis.xrange(keys.results(streamId), start, '+', 'COUNT', options.count ?? 1000));
    return this.decode(streamId, raw);
  }

  /** The id of the newest retained result, or '0-0' when there is none: a gapless start point for follow(). */
  async tailId(streamId: string): Promise<string> {
    const [newest] = streamEntries(await this.redis.xrevrange(keys.results(streamId), '+', '-', 'COUNT', 1));
    return newest?.id ?? '0-0';
  }

  /** The newest retained result (undefined when there is none or it does not decode). */
  async newest(streamId: string): Promise<ResultEntry | undefined> {
    const raw = streamEntries(await this.redis.xrevrange(keys.results(streamId), '+', '-', 'COUNT', 1));
    return this.decode(streamId, raw)[0];
  }

  /**
   * Reads new entries across streams from the given last ids ('$' = only new), blocking up to blockMs when there is
   * nothing (stream-reads.ts). Returns each stream's new entries and `lastId`, the id to continue from (it also moves
   * past undecodable entries). Empty when nothing came. A stream whose read failed is left out (its cursor stays);
   * only when every read failed does it throw.
   */
  async follow(
    cursors: Map<string, string>,
    blockMs: number,
    count = 500,
  ): Promise<Array<{ streamId: string; entries: ResultEntry[]; lastId: string }>> {
    if (cursors.size === 0) return [];
    const { batches, failed } = await this.reads.read([...cursors].map(([id, lastId]) => ({ key: keys.results(id), id: lastId })), { count, blockMs });
    if (failed.size === cursors.size) throw failed.values().next().value!;
    return batches
      .filter(({ entries }) => entries.length > 0)
      .map(({ key, entries }) => {
        const streamId = streamIdOfKey(key);
        return { streamId, entries: this.decode(streamId, entries), lastId: entries[entries.length - 1]!.id };
      });
  }

  /** Ends a pending follow() now (when constructed with `commands`, or on a cluster). */
  interrupt(): Promise<void> {
    return this.reads.interrupt();
  }

  private decode(streamId: string, raw: Parameters<typeof decodeResultEntries>[0]): ResultEntry[] {
    return decodeResultEntries(raw, (entryId, error) => this.onBadEntry?.(streamId, entryId, error));
  }
}
