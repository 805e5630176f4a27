import type { Redis } from 'ioredis';
import { streamSchema, type StreamConfig, type StreamConfigInput } from '../../config/schema.js';
import { PosestreamError } from '../errors.js';
import { streamReplyPairs } from '../redis/frame-stream.js';
import { EVENTS_LENGTH, keys } from '../redis/keys.js';
import { decodeState, encodeState } from '../wire/redis-codec.js';
import { registryEventSchema, WIRE_VERSION, type RegistryEvent, type StreamState } from '../wire/v1.js';

export type StreamPatch = { enabled?: boolean; fps?: number; mode?: 'live' | 'lossless'; loop?: boolean };

/** "url: unsupported scheme ...; fps: Too big ..." — each zod issue named by its field. */
export function describeStreamIssues(error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }): string {
  return error.issues.map((issue) => `${issue.path.map(String).join('.') || '(stream)'}: ${issue.message}`).join('; ');
}

export function parseStream(input: unknown): StreamConfig {
  const parsed = streamSchema.safeParse(input);
  if (!parsed.success) {
    throw new PosestreamError('PS_STREAM_INVALID', `invalid stream: ${describeStreamIssues(parsed.error)}`);
  }
  return parsed.data;
}

/** Writes a state only while the stream is registered, so a late report from a stopping ingest cannot resurrect it. */
const REPORT_STATE_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'e', ARGV[2])
`;

type RegistryRedis = Redis & { posestreamReportState(streams: string, states: string, events: string, id: string, state: string, maxlen: number): Promise<null> };

/**
 * The streams users want (config file + REST) and what ingest reports about them, in Redis so every role sees
 * the same list. Events on keys.events say *what* changed, never the new value: readers re-read the hash.
 * A config change (add, update, seed with a different definition) resets the stream's state to 'pending', which is
 * how an ended file stream is started again.
 */
export class StreamRegistry {
  private readonly watchers = new Set<Redis>();

  constructor(private readonly redis: Redis) {
    if (!('posestreamReportState' in redis)) {
      redis.defineCommand('posestreamReportState', { numberOfKeys: 3, lua: REPORT_STATE_SCRIPT });
    }
  }

  async list(): Promise<StreamConfig[]> {
    const all = await this.redis.hgetall(keys.streams);
    return Object.values(all)
      .map((text) => this.decodeStored(text))
      .filter((stream): stream is StreamConfig => stream !== undefined)
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  async get(id: string): Promise<StreamConfig | undefined> {
    const text = await this.redis.hget(keys.streams, id);
    return text === null ? undefined : this.decodeStored(text);
  }

  async add(input: StreamConfigInput): Promise<StreamConfig> {
    const stream = parseStream(input);
    const created = await this.redis.hsetnx(keys.streams, stream.id, JSON.stringify(stream));
    if (created === 0) throw new PosestreamError('PS_STREAM_EXISTS', `stream "${stream.id}" already exists`);
    await this.changed(stream.id, 'added');
    return stream;
  }

  async remove(id: string): Promise<boolean> {
    const removed = await this.redis.hdel(keys.streams, id);
    if (removed === 0) return false;
    await this.redis.hdel(keys.streamState, id);
    await this.emit({ v: WIRE_VERSION, kind: 'stream-changed', streamId: id, change: 'removed', ts: Date.now() });
    return true;
  }

  async update(id: string, patch: StreamPatch): Promise<StreamConfig> {
    const current = await this.get(id);
    if (!current) throw new PosestreamError('PS_STREAM_NOT_FOUND', `stream "${id}" does not exist`);
    const allowed: StreamPatch = {};
    for (const field of ['enabled', 'fps', 'mode', 'loop'] as const) {
      if (patch[field] !== undefined) Object.assign(allowed, { [field]: patch[field] });
    }
    const extra = Object.keys(patch).filter((field) => !['enabled', 'fps', 'mode', 'loop'].includes(field));
    if (extra.length > 0) {
      throw new PosestreamError('PS_STREAM_INVALID', `invalid stream patch: ${extra.join(', ')}: cannot be changed (only enabled, fps, mode, loop)`);
    }
    const next = parseStream({ ...current, ...allowed });
    if (JSON.stringify(next) === JSON.stringify(current)) return current;
    await this.redis.hset(keys.streams, id, JSON.stringify(next));
    await this.changed(id, 'updated');
    return next;
  }

  /** Config streams are written (the config wins for the ids it names); streams added through REST are kept. */
  async seed(streams: StreamConfig[]): Promise<void> {
    for (const input of streams) {
      const stream = parseStream(input);
      const text = JSON.stringify(stream);
      const previous = await this.redis.hget(keys.streams, stream.id);
      if (previous !== null && sameStream(previous, stream)) continue;
      await this.redis.hset(keys.streams, stream.id, text);
      await this.changed(stream.id, previous === null ? 'added' : 'updated');
    }
  }

  async states(): Promise<Map<string, StreamState>> {
    const all = await this.redis.hgetall(keys.streamState);
    const states = new Map<string, StreamState>();
    for (const [id, text] of Object.entries(all)) {
      try {
        states.set(id, decodeState(text));
      } catch {
        // A state written by another (newer) version: readers treat the stream as having no state yet.
      }
    }
    return states;
  }

  async reportState(state: StreamState): Promise<void> {
    await (this.redis as RegistryRedis).posestreamReportState(keys.streams, keys.streamState, keys.events, state.streamId, encodeState(state), EVENTS_LENGTH);
  }

  /**
   * Tails the events stream from now on its own duplicate connection (XREAD BLOCK holds a connection), calling
   * onEvent for each valid event. The returned function stops it and closes that connection.
   */
  watch(onEvent: (event: RegistryEvent) => void): () => void {
    const connection = this.redis.duplicate();
    this.watchers.add(connection);
    let active = true;
    const loop = async () => {
      let lastId = '$';
      while (active) {
        try {
          const reply = await connection.xread('BLOCK', 5_000, 'STREAMS', keys.events, lastId);
          for (const [, entries] of streamReplyPairs<string, Array<[string, string[]]>>(reply)) {
            for (const [id, fields] of entries) {
              lastId = id;
              const event = decodeEvent(fields);
              if (event && active) onEvent(event);
            }
          }
        } catch {
          if (!active) return;
          // Connection trouble: createRedis-style retries happen inside ioredis; pause instead of spinning.
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    };
    void loop();
    return () => {
      active = false;
      this.watchers.delete(connection);
      connection.disconnect();
    };
  }

  /** Stops all watchers. The main connection belongs to the caller. */
  async close(): Promise<void> {
    for (const connection of this.watchers) connection.disconnect();
    this.watchers.clear();
  }

  private async changed(id: string, change: 'added' | 'updated'): Promise<void> {
    await this.reportState({ v: WIRE_VERSION, kind: 'state', streamId: id, state: 'pending', since: Date.now(), restarts: 0 });
    await this.emit({ v: WIRE_VERSION, kind: 'stream-changed', streamId: id, change, ts: Date.now() });
  }

  private async emit(event: RegistryEvent): Promise<void> {
    await this.redis.xadd(keys.events, 'MAXLEN', '~', EVENTS_LENGTH, '*', 'e', JSON.stringify(event));
  }

  private decodeStored(text: string): StreamConfig | undefined {
    try {
      return streamSchema.parse(JSON.parse(text));
    } catch {
      return undefined;
    }
  }
}

function sameStream(storedText: string, stream: StreamConfig): boolean {
  try {
    const stored = streamSchema.parse(JSON.parse(storedText));
    return JSON.stringify(stored) === JSON.stringify(stream);
  } catch {
    return false;
  }
}

function decodeEvent(fields: string[]): RegistryEvent | undefined {
  const index = fields.indexOf('e');
  if (index < 0 || index + 1 >= fields.length) return undefined;
  try {
    return registryEventSchema.parse(JSON.parse(fields[index + 1]!));
  } catch {
    return undefined;
  }
}
