import type { ChainableCommander, Redis } from 'ioredis';
import { decodeResult, encodeResult } from '../wire/redis-codec.js';
import { frameMetaSchema, poseResultSchema, type FrameMeta, type PoseResult, type StreamResult } from '../wire/v1.js';
import { keys, PREVIEW_LENGTH } from './keys.js';

/**
 * Pose results on Redis. results(id) is the durable, bounded record (late watchers replay it); preview(id) carries
 * result + frame pairs only while somebody watches frames, so the gateway can draw a result on exactly its frame.
 */

export interface PreviewFrame {
  meta: FrameMeta;
  pixels: Buffer;
}

export class ResultPublisher {
  readonly retention: number;

  constructor(options: { retention: number }) {
    this.retention = options.retention;
  }

  /**
   * Appends the result (and the preview entry) to the caller's MULTI, so it commits together with the frame ack.
   * Results use approximate trimming (cheap, small entries); previews use exact trimming because `~` keeps whole
   * 100-entry stream nodes, which for frame-sized entries would be ~90 MB per stream instead of PREVIEW_LENGTH.
   */
  addInto(multi: ChainableCommander, result: StreamResult, preview?: PreviewFrame): void {
    const text = encodeResult(result);
    multi.xadd(keys.results(result.streamId), 'MAXLEN', '~', this.retention, '*', 'r', text);
    if (preview && result.kind === 'pose') {
      multi.xadd(
        keys.preview(result.streamId),
        'MAXLEN',
        PREVIEW_LENGTH,
        '*',
        'r',
        text,
        'm',
        JSON.stringify(preview.meta),
        'px',
        preview.pixels,
      );
    }
  }
}

/**
 * Which streams have a frame viewer (keys.viewers set by the gateway), cached briefly: the worker asks once per
 * batch and must not pay a round trip each time, and a preview that starts half a second late is harmless.
 */
export class ViewerCheck {
  private cache = new Map<string, { watched: boolean; at: number }>();

  constructor(
    private readonly redis: Redis,
    private readonly maxAgeMs = 500,
  ) {}

  async watched(streamIds: Iterable<string>, now = Date.now()): Promise<Set<string>> {
    const stale = [...new Set(streamIds)].filter((id) => {
      const cached = this.cache.get(id);
      return !cached || now - cached.at > this.maxAgeMs;
    });
    if (stale.length > 0) {
      const pipeline = this.redis.pipeline();
      for (const id of stale) pipeline.exists(keys.viewers(id));
      const replies = (await pipeline.exec()) ?? [];
      stale.forEach((id, i) => {
        const reply = replies[i];
        this.cache.set(id, { watched: !reply?.[0] && Number(reply?.[1]) > 0, at: now });
      });
    }
    const result = new Set<string>();
    for (const id of streamIds) if (this.cache.get(id)?.watched) result.add(id);
    return result;
  }

  forget(streamId: string): void {
    this.cache.delete(streamId);
  }
}

export interface ResultEntry {
  entryId: string;
  result: StreamResult;
}

type RawEntry = [id: string, fields: string[]];

export class ResultReader {
  /** Called for an entry that does not decode; it is skipped (the cursor still moves past it). */
  onBadEntry?: (streamId: string, entryId: string, error: Error) => void;

  /** `redis` should be a dedicated connection: follow() blocks it. */
  constructor(private readonly redis: Redis) {}

  /**
   * One page of retained results, oldest first: from the start, or strictly after `afterId`. Call again with the
   * last entryId until a page is shorter than `count` to read everything retained.
   */
  async replay(streamId: string, options: { afterId?: string; count?: number } = {}): Promise<ResultEntry[]> {
    const start = options.afterId ? `(${options.afterId}` : '-';
    const raw = (await this.redis.xrange(keys.results(streamId), start, '+', 'COUNT', options.count ?? 1000)) as RawEntry[];
    return this.decodeEntries(streamId, raw);
  }

  /** The id of the newest retained result, or '0-0' when there is none: a gapless start point for follow(). */
  async tailId(streamId: string): Promise<string> {
    const raw = (await this.redis.xrevrange(keys.results(streamId), '+', '-', 'COUNT', 1)) as RawEntry[];
    return raw[0]?.[0] ?? '0-0';
  }

  /**
   * Blocking XREAD across streams from the given last ids ('$' = only new). Returns each stream's new entries and
   * `lastId`, the id to continue from (it also moves past undecodable entries). Empty when blockMs passed.
   */
  async follow(
    cursors: Map<string, string>,
    blockMs: number,
    count = 500,
  ): Promise<Array<{ streamId: string; entries: ResultEntry[]; lastId: string }>> {
    if (cursors.size === 0) return [];
    const ids = [...cursors.keys()];
    const reply = (await this.redis.xread(
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      ...ids.map((id) => keys.results(id)),
      ...ids.map((id) => cursors.get(id)!),
    )) as Array<[key: string, entries: RawEntry[]]> | null;
    if (!reply) return [];
    const prefixLength = keys.results('').length;
    return reply
      .filter(([, entries]) => entries.length > 0)
      .map(([key, entries]) => {
        const streamId = key.slice(prefixLength);
        return { streamId, entries: this.decodeEntries(streamId, entries), lastId: entries[entries.length - 1]![0] };
      });
  }

  private decodeEntries(streamId: string, raw: RawEntry[]): ResultEntry[] {
    const entries: ResultEntry[] = [];
    for (const [entryId, fields] of raw) {
      try {
        entries.push({ entryId, result: decodeResult(fieldValue(fields, 'r') ?? missingField('r')) });
      } catch (error) {
        this.onBadEntry?.(streamId, entryId, error as Error);
      }
    }
    return entries;
  }
}

function fieldValue<T extends string | Buffer>(fields: T[], name: string): T | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i]!.toString() === name) return fields[i + 1];
  }
  return undefined;
}

function missingField(name: string): never {
  throw new Error(`result entry without field "${name}"`);
}

/** A preview(id) entry's fields as returned by ioredis *Buffer commands: [name, value, name, value, ...]. */
export function decodePreviewFields(fields: Buffer[]): { result: PoseResult; meta: FrameMeta; pixels: Buffer } {
  const r = fieldValue(fields, 'r') ?? missingField('r');
  const m = fieldValue(fields, 'm') ?? missingField('m');
  const pixels = fieldValue(fields, 'px') ?? missingField('px');
  const result = poseResultSchema.parse(JSON.parse(r.toString()));
  const meta = frameMetaSchema.parse(JSON.parse(m.toString()));
  const expected = meta.width * meta.height * 3;
  if (pixels.length !== expected) {
    throw new Error(`preview ${meta.streamId}#${meta.seq}: ${pixels.length} pixel bytes, expected ${expected}`);
  }
  if (result.seq !== meta.seq) throw new Error(`preview result #${result.seq} paired with frame #${meta.seq}`);
  return { result, meta, pixels };
}
