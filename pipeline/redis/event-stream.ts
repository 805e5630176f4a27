import type { StageCommand } from '../stages/result-stage.js';
import type { PoseEvent } from '../wire/v1.js';
import { decodeEntries, decodePoseEventFields, encodePoseEventFields, streamEntries, type RawStreamEntry } from './codec.js';
import type { RedisClient } from './client.js';
import { keys } from './keys.js';

/**
 * Pose events on Redis: keys.poseEvents(id), one entry {e: PoseEvent JSON} per event, kept by age (XADD MINID, the
 * entry id being the publish time in ms), and keys.eventSnapshot(id, eventId), the annotated JPEG of an event's
 * decisive frame, expiring with the same retention. The event stage writes them in the batch's MULTI (StageCommand);
 * the gateway follows, replays and queries them; the notifier reads them with its own consumer groups.
 */

export interface PoseEventEntry {
  entryId: string;
  event: PoseEvent;
}

/**
 * The commands that store one event (and its snapshot) with the stream's results, trimming by age as they go.
 * Exact MINID trimming: events are few and small, so removing the expired ones one by one costs little and the age
 * bound holds exactly (`~` only drops whole stream nodes, ~100 entries, which for a quiet stream may be never).
 */
export function poseEventCommands(event: PoseEvent, options: { retentionMs: number; nowMs: number; snapshot?: Buffer }): StageCommand[] {
  const commands: StageCommand[] = [];
  if (options.snapshot) commands.push(['SET', keys.eventSnapshot(event.streamId, event.id), options.snapshot, 'PX', options.retentionMs]);
  const oldest = Math.max(0, Math.floor(options.nowMs - options.retentionMs));
  commands.push(['XADD', keys.poseEvents(event.streamId), 'MINID', `${oldest}-0`, '*', ...encodePoseEventFields(event)]);
  return commands;
}

/** The stream id an event id starts with (`<streamId>:<type>:...`); undefined when it cannot be an event id. */
export function streamIdOfEventId(eventId: string): string | undefined {
  const match = /^([A-Za-z0-9][A-Za-z0-9_-]{0,63}):[a-z_]+:/.exec(eventId);
  return eventId.length <= 256 ? match?.[1] : undefined;
}

export interface EventQuery {
  /** Entries strictly after this entry id; absent: the newest `limit` events. */
  afterId?: string;
  /** Only these types. */
  types?: ReadonlySet<string>;
  limit: number;
}

/** Most entries one query reads while filtering by type (a query answers in bounded time whatever the filter). */
export const QUERY_SCAN_LIMIT = 10_000;

export class PoseEventReader {
  /** Called for an entry that does not decode; it is skipped. */
  onBadEntry?: (streamId: string, entryId: string, error: Error) => void;

  constructor(private readonly redis: RedisClient) {}

  /** One page of retained events, oldest first, from the start or strictly after `afterId`. */
  async replay(streamId: string, options: { afterId?: string; count?: number } = {}): Promise<PoseEventEntry[]> {
    const start = options.afterId ? `(${options.afterId}` : '-';
    return this.decode(streamId, streamEntries(await this.redis.xrange(keys.poseEvents(streamId), start, '+', 'COUNT', options.count ?? 1000)));
  }

  /** The id of the newest retained event, or '0-0': a gapless start point for following. */
  async tailId(streamId: string): Promise<string> {
    const [newest] = streamEntries(await this.redis.xrevrange(keys.poseEvents(streamId), '+', '-', 'COUNT', 1));
    return newest?.id ?? '0-0';
  }

  /**
   * Events of one stream, oldest first: after `afterId`, or else the newest ones. With a type filter the scan stops
   * after QUERY_SCAN_LIMIT entries; `next` (the last entry id looked at) continues from there.
   */
  async query(streamId: string, query: EventQuery): Promise<{ events: PoseEventEntry[]; next?: string }> {
    const key = keys.poseEvents(streamId);
    const matches = (entry: PoseEventEntry) => !query.types || query.types.has(entry.event.type);
    const found: PoseEventEntry[] = [];
    let scanned = 0;
    const page = Math.min(1000, Math.max(query.limit, 100));
    if (query.afterId === undefined) {
      // Newest first, then reversed.
      let end = '+';
      while (found.length < query.limit && scanned < QUERY_SCAN_LIMIT) {
        const raw = streamEntries(await this.redis.xrevrange(key, end, '-', 'COUNT', page));
        if (raw.length === 0) break;
        scanned += raw.length;
        for (const entry of this.decode(streamId, raw)) if (matches(entry) && found.length < query.limit) found.push(entry);
        end = `(${raw[raw.length - 1]!.id}`;
        if (raw.length < page) break;
      }
      return { events: found.reverse() };
    }
    let start = `(${query.afterId}`;
    let last: string | undefined;
    while (found.length < query.limit && scanned < QUERY_SCAN_LIMIT) {
      const raw = streamEntries<string>(await this.redis.xrange(key, start, '+', 'COUNT', page));
      for (const one of raw) {
        scanned += 1;
        last = one.id;
        const [entry] = this.decode(streamId, [one]);
        if (entry && matches(entry)) found.push(entry);
        if (found.length >= query.limit) break;
      }
      if (raw.length < page || last === undefined) break;
      start = `(${last}`;
    }
    return last === undefined ? { events: found } : { events: found, next: last };
  }

  /** The annotated JPEG stored with an event, while it is retained. */
  async snapshot(streamId: string, eventId: string): Promise<Buffer | undefined> {
    return (await this.redis.getBuffer(keys.eventSnapshot(streamId, eventId))) ?? undefined;
  }

  private decode(streamId: string, raw: Array<RawStreamEntry<string>>): PoseEventEntry[] {
    return decodePoseEventEntries(raw, (entryId, error) => this.onBadEntry?.(streamId, entryId, error));
  }
}

/** Decodes raw event entries; an undecodable one goes to onBad and is skipped. */
export function decodePoseEventEntries(raw: Array<RawStreamEntry<string>>, onBad: (entryId: string, error: Error) => void): PoseEventEntry[] {
  return decodeEntries(raw, (entryId, fields) => ({ entryId, event: decodePoseEventFields(fields) }), onBad);
}
