import type { Redis } from 'ioredis';
import { decodePoseEventFields, streamReadReply } from '../../pipeline/redis/codec.js';
import { ensureConsumerGroup } from '../../pipeline/redis/frame-stream.js';
import { keys } from '../../pipeline/redis/keys.js';
import type { PoseEvent } from '../../pipeline/wire/v1.js';

/**
 * A notifier sink kind's view of the per-stream event streams: one consumer group per kind on every stream's
 * keys.poseEvents, read with one XREADGROUP across all streams.
 *
 * Cursors per stream: '>' reads events no consumer of the group has seen (blocking); any other id reads this
 * consumer's own pending history after that id (never blocks), which is how a restarted notifier re-delivers what
 * its predecessor read but did not acknowledge, and how a failed delivery is retried.
 */

/** A new group starts this far back, so events written between a stream's registration and the group's creation
 * are not missed, while enabling a sink on an old deployment does not replay the whole retained history. */
export const GROUP_BACKLOG_MS = 60_000;

export const NEW_EVENTS = '>';
export const OWN_PENDING_FROM_START = '0';

export interface EventEntry {
  streamId: string;
  entryId: string;
  /** Undefined when the entry does not decode or was trimmed while pending (then `problem` says which). */
  event?: PoseEvent;
  problem?: string;
}

export class EventGroupReader {
  constructor(
    /** Dedicated connection: a blocking read holds it. */
    private readonly blocking: Redis,
    private readonly commands: Redis,
    private readonly options: { group: string; consumer: string },
  ) {}

  get group(): string {
    return this.options.group;
  }

  async ensureGroup(streamId: string, now = Date.now()): Promise<void> {
    await ensureConsumerGroup(this.commands, keys.poseEvents(streamId), this.options.group, `${Math.max(0, now - GROUP_BACKLOG_MS)}-0`);
  }

  /**
   * One XREADGROUP over the streams in `cursors` (stream id -> '>' or a history id). Returns at once when any cursor
   * reads history; otherwise blocks up to blockMs. A history cursor whose stream has no more pending entries comes
   * back in `historyDone`. Throws NOGROUP errors (a stream key deleted under us): call ensureGroup again.
   */
  async read(cursors: ReadonlyMap<string, string>, options: { count: number; blockMs: number }): Promise<{ entries: EventEntry[]; historyDone: string[] }> {
    if (cursors.size === 0) return { entries: [], historyDone: [] };
    const streamIds = [...cursors.keys()];
    const streamKeys = streamIds.map((id) => keys.poseEvents(id));
    const reply = await this.blocking.xreadgroup(
      'GROUP', this.options.group, this.options.consumer,
      'COUNT', options.count, 'BLOCK', options.blockMs,
      'STREAMS', ...streamKeys, ...streamIds.map((id) => cursors.get(id)!),
    );
    const entries: EventEntry[] = [];
    const returned = new Map<string, number>();
    for (const { key, entries: raw } of streamReadReply(reply)) {
      const streamId = streamIds[streamKeys.indexOf(key)];
      if (streamId === undefined) continue;
      returned.set(streamId, raw.length);
      for (const { id, fields } of raw) entries.push(decodeEntry(streamId, id, fields));
    }
    const historyDone = streamIds.filter((id) => cursors.get(id) !== NEW_EVENTS && (returned.get(id) ?? 0) === 0);
    return { entries, historyDone };
  }

  async ack(streamId: string, entryIds: string[]): Promise<void> {
    if (entryIds.length > 0) await this.commands.xack(keys.poseEvents(streamId), this.options.group, ...entryIds);
  }

  /** The annotated JPEG stored with an event, if it is still there. */
  async snapshot(streamId: string, eventId: string): Promise<Buffer | undefined> {
    return (await this.commands.getBuffer(keys.eventSnapshot(streamId, eventId))) ?? undefined;
  }
}

function decodeEntry(streamId: string, entryId: string, fields: string[] | null): EventEntry {
  // A pending entry trimmed by retention comes back from a history read with no fields.
  if (fields === null) return { streamId, entryId, problem: 'trimmed' };
  try {
    const event = decodePoseEventFields(fields);
    return event.streamId === streamId ? { streamId, entryId, event } : { streamId, entryId, problem: 'invalid' };
  } catch {
    return { streamId, entryId, problem: 'invalid' };
  }
}
