import { duplicateClient, type RedisClient } from '../redis/client.js';
import { PosestreamError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import { redactSecrets } from '../obs/redact.js';
import {
  decodeRegistryEvent,
  decodeState,
  decodeStoredStream,
  encodeRegistryEventFields,
  encodeState,
  encodeStoredStream,
  streamReadReply,
} from '../redis/codec.js';
import { EVENTS_LENGTH, keys, LEGACY_KEYS } from '../redis/keys.js';
import { runScript } from '../redis/lua-scripts.js';
import { WIRE_VERSION, type RegistryEvent, type StreamState } from '../wire/v1.js';
import {
  effectiveOrigin,
  sourceSettings,
  parseStream,
  parseStreamPatch,
  type StreamConfig,
  type StreamConfigInput,
  type StreamOrigin,
  type StreamPatch,
} from './definition.js';

/** A registry entry this version cannot read (written by a newer version, or by hand): kept, reported, never run. */
export interface UnreadableStream {
  id: string;
  problem: string;
}

export interface RegistrySnapshot {
  streams: StreamConfig[];
  unreadable: UnreadableStream[];
}

/**
 * The streams users want (config file + REST) and what ingest reports about them, in Redis so every role sees
 * the same list. Events on keys.events say *what* changed, never the new value: readers re-read the hash.
 * A config change (add, update, seed with a different definition) resets the stream's state to 'pending', which is
 * how an ended file stream is started again.
 */
/** Whether two definitions differ in what the ingest runs (the same test the ingest uses to restart a source). */
function sourceChanged(before: StreamConfig, after: StreamConfig): boolean {
  return JSON.stringify(sourceSettings(before)) !== JSON.stringify(sourceSettings(after));
}

export class StreamRegistry {
  private readonly watchers = new Set<RedisClient>();
  /** id -> the stored text last warned about, so one bad entry is logged once, not on every read. */
  private readonly warned = new Map<string, string>();

  constructor(
    private readonly redis: RedisClient,
    private readonly options: { logger?: Logger } = {},
  ) {}

  /**
   * One-time move from the single-instance layout (LEGACY_KEYS, before hash tags) to keys.streams and
   * keys.streamState, so REST-added streams and ended-file states survive the upgrade. Idempotent and safe to run
   * from every process at start: entries already in the new layout win (HSETNX), each moved field is then deleted
   * from the old hash, so only the process that finds something logs it. Not atomic across the two keys (they live
   * in different hash slots); a crash midway leaves the rest for the next start. Returns how many streams moved.
   */
  async migrateLegacyLayout(): Promise<number> {
    const moved: string[] = [];
    for (const [legacy, current] of [[LEGACY_KEYS.streams, keys.streams], [LEGACY_KEYS.streamState, keys.streamState]] as const) {
      if ((await this.redis.type(legacy)) !== 'hash') continue;
      for (const [id, value] of Object.entries(await this.redis.hgetall(legacy))) {
        await this.redis.hsetnx(current, id, value);
        await this.redis.hdel(legacy, id);
        if (legacy === LEGACY_KEYS.streams) moved.push(id);
      }
    }
    if (moved.length > 0) {
      this.options.logger?.info({ from: LEGACY_KEYS.streams, to: keys.streams, streams: moved }, 'stream registry moved to the hash-tagged key layout');
      for (const id of moved) await this.emit({ v: WIRE_VERSION, kind: 'stream-changed', streamId: id, change: 'added', ts: Date.now() });
    }
    return moved.length;
  }

  /** Every registered stream this version can read, sorted by id, and the entries it cannot (see snapshot). */
  async list(): Promise<StreamConfig[]> {
    return (await this.snapshot()).streams;
  }

  /**
   * Streams and unreadable entries. An unreadable entry stays in Redis untouched: it is logged once, listed here
   * (REST shows it), its frames are still served by workers, and only removing it or a config seed replaces it.
   */
  async snapshot(): Promise<RegistrySnapshot> {
    const all = await this.redis.hgetall(keys.streams);
    const streams: StreamConfig[] = [];
    const unreadable: UnreadableStream[] = [];
    for (const [id, text] of Object.entries(all)) {
      const read = this.readEntry(id, text);
      if (read.ok) streams.push(read.stored.stream);
      else unreadable.push({ id, problem: read.problem });
    }
    streams.sort((a, b) => a.id.localeCompare(b.id));
    unreadable.sort((a, b) => a.id.localeCompare(b.id));
    return { streams, unreadable };
  }

  async get(id: string): Promise<StreamConfig | undefined> {
    const text = await this.redis.hget(keys.streams, id);
    if (text === null) return undefined;
    const read = this.readEntry(id, text);
    return read.ok ? read.stored.stream : undefined;
  }

  /** A registered stream with its origin; an entry this version cannot read is undefined here too. */
  async entry(id: string): Promise<{ stream: StreamConfig; origin: StreamOrigin } | undefined> {
    const text = await this.redis.hget(keys.streams, id);
    const read = text === null ? undefined : this.readEntry(id, text);
    return read?.ok ? { stream: read.stored.stream, origin: effectiveOrigin(read.stored) } : undefined;
  }

  /** Registers a stream from the REST API (origin 'api': sourcePolicy applies to it); the config uses seed(). */
  async add(input: StreamConfigInput): Promise<StreamConfig> {
    const stream = parseStream(input);
    const created = await this.redis.hsetnx(keys.streams, stream.id, encodeStoredStream({ stream, origin: 'api', extra: {} }));
    if (created === 0) throw new PosestreamError('PS_STREAM_EXISTS', `stream "${stream.id}" already exists`);
    await this.changed(stream.id, 'added');
    return stream;
  }

  async remove(id: string): Promise<boolean> {
    const removed = await this.redis.hdel(keys.streams, id);
    if (removed === 0) return false;
    await this.redis.hdel(keys.streamState, id);
    // A stream added again under this id starts its source from the beginning (its seqs and fencing token go on).
    await this.redis.hdel(keys.ingestRecord(id), 'pts', 'source', 'end');
    await this.emit({ v: WIRE_VERSION, kind: 'stream-changed', streamId: id, change: 'removed', ts: Date.now() });
    return true;
  }

  /** Changes patchable fields; fields this version does not know are written back as they were. */
  async update(id: string, patch: StreamPatch): Promise<StreamConfig> {
    const allowed = parseStreamPatch(patch);
    const text = await this.redis.hget(keys.streams, id);
    if (text === null) throw new PosestreamError('PS_STREAM_NOT_FOUND', `stream "${id}" does not exist`);
    const read = this.readEntry(id, text);
    if (!read.ok) {
      throw new PosestreamError('PS_STREAM_INVALID', `stream "${id}" is stored in a form this version cannot read (${read.problem}); remove it or change it with a newer version`);
    }
    const current = read.stored.stream;
    const next = parseStream({ ...current, ...allowed });
    if (JSON.stringify(next) === JSON.stringify(current)) return current;
    await this.redis.hset(keys.streams, id, encodeStoredStream({ ...read.stored, stream: next }));
    await this.changed(id, 'updated', sourceChanged(current, next));
    return next;
  }

  /**
   * Config streams are written with origin 'config' (the config wins for the ids it names, keeping stored fields this
   * version does not know); streams added through REST are kept.
   */
  async seed(streams: StreamConfig[]): Promise<void> {
    for (const input of streams) {
      const stream = parseStream(input);
      const previous = await this.redis.hget(keys.streams, stream.id);
      const read = previous === null ? undefined : decodeStoredStream(previous);
      const unchanged = read?.ok === true && JSON.stringify(read.stored.stream) === JSON.stringify(stream);
      if (unchanged && read.stored.origin === 'config') continue;
      await this.redis.hset(keys.streams, stream.id, encodeStoredStream({ stream, origin: 'config', extra: read?.ok ? read.stored.extra : {} }));
      // Only the origin was missing (an entry from before origins were recorded): nothing for readers to redo.
      if (!unchanged) await this.changed(stream.id, previous === null ? 'added' : 'updated', !read?.ok || sourceChanged(read.stored.stream, stream));
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

  /**
   * The one point where states are written: a reason (often GStreamer's error text, which may quote the URL with
   * its password) loses its secrets here, so no state in Redis, REST or WebSocket carries one.
   */
  async reportState(state: StreamState): Promise<void> {
    const safe = state.reason === undefined ? state : { ...state, reason: redactSecrets(state.reason) };
    // Only while the stream is registered (scripts/report-state-3.lua): a late report cannot resurrect a removed one.
    await runScript(this.redis, 'report-state', [keys.streams, keys.streamState, keys.events], [safe.streamId, encodeState(safe), EVENTS_LENGTH]);
  }

  /**
   * Tails the events stream from now on its own duplicate connection (XREAD BLOCK holds a connection), calling
   * onEvent for each valid event. The returned function stops it and closes that connection.
   */
  watch(onEvent: (event: RegistryEvent) => void): () => void {
    const connection = duplicateClient(this.redis);
    this.watchers.add(connection);
    let active = true;
    const loop = async () => {
      let lastId = '$';
      while (active) {
        try {
          const reply = await connection.xread('BLOCK', 5_000, 'STREAMS', keys.events, lastId);
          for (const { entries } of streamReadReply(reply)) {
            for (const { id, fields } of entries) {
              lastId = id;
              const event = decodeRegistryEvent(fields);
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

  /**
   * `restartsSource`: the source settings changed, so the ingest restarts it and its state starts again at 'pending'.
   * A change of tracking or event rules only (the ingest keeps the source running) leaves the state as it is: a
   * 'pending' nobody would ever overwrite would hide a running stream.
   */
  private async changed(id: string, change: 'added' | 'updated', restartsSource = true): Promise<void> {
    if (restartsSource) await this.reportState({ v: WIRE_VERSION, kind: 'state', streamId: id, state: 'pending', since: Date.now(), restarts: 0 });
    await this.emit({ v: WIRE_VERSION, kind: 'stream-changed', streamId: id, change, ts: Date.now() });
  }

  private async emit(event: RegistryEvent): Promise<void> {
    await this.redis.xadd(keys.events, 'MAXLEN', '~', EVENTS_LENGTH, '*', ...encodeRegistryEventFields(event));
  }

  private readEntry(id: string, text: string): ReturnType<typeof decodeStoredStream> {
    const read = decodeStoredStream(text);
    if (!read.ok && this.warned.get(id) !== text) {
      this.warned.set(id, text);
      this.options.logger?.warn({ streamId: id, problem: read.problem }, 'registry entry unreadable by this version: kept, not run');
    }
    if (read.ok) this.warned.delete(id);
    return read;
  }
}
