import {
  compareCursors,
  WIRE_VERSION,
  type Channel,
  type ClientMessage,
  type PoseEvent,
  type StreamCursors,
  type StreamResult,
} from '../pipeline/wire/v1.js';

/**
 * What a client has seen, so that a new connection resumes exactly after it (pure: no sockets, no timers).
 *
 * The gateway tags every result and event with its `cursor` (its Redis entry id) and resumes a subscription strictly
 * after the cursors sent in `subscribe.after`: replaying what Redis retains, then live. This tracker keeps the last
 * cursor per stream and channel, builds those subscribe messages, and drops whatever arrives twice anyway:
 * - a message at or before the cursor (a live message that was in flight while a replay of the same entries began);
 * - an event whose id it has already delivered (the engine re-detecting a condition after a worker hand-over gives
 *   it the same id: see docs/events.md);
 * - a pose result whose seq is not after the last one (a frame processed again by the next worker);
 * - an end-of-stream already delivered (an events replay of a finished stream ends with it every time).
 */

export type CursorChannel = 'results' | 'events';
const CURSOR_CHANNELS: readonly CursorChannel[] = ['results', 'events'];

/** What one subscription asks for; `streams` are ids or ['*'] (every stream, including ones added later). */
export interface SubscriptionSpec {
  streams: string[];
  channels: Channel[];
  /** results, events: replay what Redis retains before following live (only where nothing was seen yet). */
  fromStart?: boolean;
  /** frames: skeletons drawn by the server (default true). */
  annotated?: boolean;
  /**
   * false: after a reconnect follow live only, skipping what was missed (a live view has no use for old results).
   * Default true: resume after the last cursor.
   */
  resume?: boolean;
}

/** How many delivered event ids are remembered for de-duplication (events are few: hours of a busy stream). */
export const REMEMBERED_EVENT_IDS = 10_000;

export class ResumeTracker {
  private readonly cursors: Record<CursorChannel, Map<string, string>> = { results: new Map(), events: new Map() };
  private readonly lastSeq = new Map<string, number>();
  /** Per stream, the results cursor of the last end-of-stream delivered. */
  private readonly ends = new Map<string, string>();
  /** Insertion-ordered, bounded: the oldest ids are forgotten first. */
  private readonly eventIds = new Set<string>();

  constructor(private readonly rememberedEventIds = REMEMBERED_EVENT_IDS) {}

  cursor(channel: CursorChannel, streamId: string): string | undefined {
    return this.cursors[channel].get(streamId);
  }

  /** All cursors, as `subscribe.after` takes them. */
  snapshot(): StreamCursors {
    const out: StreamCursors = {};
    for (const channel of CURSOR_CHANNELS) for (const [streamId, cursor] of this.cursors[channel]) (out[streamId] ??= {})[channel] = cursor;
    return out;
  }

  /**
   * The live start points a `subscribed` reply gave: where nothing was seen yet, a resume starts there (a reconnect
   * before the first message then still misses nothing). A cursor already held is newer knowledge and stays.
   */
  noteLiveStart(cursors: StreamCursors | undefined): void {
    for (const [streamId, pair] of Object.entries(cursors ?? {})) {
      for (const channel of CURSOR_CHANNELS) {
        const cursor = pair[channel];
        if (cursor !== undefined && !this.cursors[channel].has(streamId)) this.cursors[channel].set(streamId, cursor);
      }
    }
  }

  /**
   * A result message: true when it is new and should be delivered. `viaResults`: this client follows the stream's
   * results (an end-of-stream also reaches clients that follow only its events, with a results cursor).
   */
  acceptResult(result: StreamResult, cursor: string | undefined, viaResults: boolean): boolean {
    const streamId = result.streamId;
    if (result.kind === 'eos') {
      const seen = this.ends.get(streamId);
      if (cursor !== undefined && seen !== undefined && compareCursors(cursor, seen) <= 0) return false;
      if (cursor !== undefined) this.ends.set(streamId, cursor);
      if (viaResults && !this.advance('results', streamId, cursor)) return false;
      // A stream that runs again after its end may start its frames over.
      this.lastSeq.delete(streamId);
      return true;
    }
    if (viaResults && !this.advance('results', streamId, cursor)) return false;
    const last = this.lastSeq.get(streamId);
    if (last !== undefined && result.seq <= last) return false;
    this.lastSeq.set(streamId, result.seq);
    return true;
  }

  /** An event message: true when it is new and should be delivered. */
  acceptEvent(event: PoseEvent, cursor: string | undefined): boolean {
    if (!this.advance('events', event.streamId, cursor)) return false;
    if (this.eventIds.has(event.id)) return false;
    this.eventIds.add(event.id);
    if (this.eventIds.size > this.rememberedEventIds) this.eventIds.delete(this.eventIds.values().next().value!);
    return true;
  }

  /**
   * The subscribe message that (re)starts `spec` on a new connection: after the cursors held for its streams,
   * `fromStart` only for what has none.
   */
  subscribeMessage(spec: SubscriptionSpec, id?: string): ClientMessage {
    const after: StreamCursors = {};
    const everyStream = spec.streams.includes('*');
    for (const channel of CURSOR_CHANNELS) {
      if (!spec.channels.includes(channel) || spec.resume === false) continue;
      for (const [streamId, cursor] of this.cursors[channel]) {
        if (everyStream || spec.streams.includes(streamId)) (after[streamId] ??= {})[channel] = cursor;
      }
    }
    // `after` may name only subscribed streams; with '*' that is every stream the gateway knows, and a stream that
    // was removed meanwhile would be refused: the caller forgets cursors of removed streams (forget()).
    return {
      v: WIRE_VERSION,
      type: 'subscribe',
      ...(id !== undefined ? { id } : {}),
      streams: spec.streams,
      channels: spec.channels,
      ...(spec.fromStart ? { fromStart: true } : {}),
      ...(spec.annotated !== undefined ? { annotated: spec.annotated } : {}),
      ...(Object.keys(after).length > 0 ? { after } : {}),
    };
  }

  /** A stream the gateway no longer knows: its cursors would make a resume of '*' fail. */
  forget(streamId: string): void {
    for (const channel of CURSOR_CHANNELS) this.cursors[channel].delete(streamId);
    this.lastSeq.delete(streamId);
    this.ends.delete(streamId);
  }

  /** Moves the cursor forward; false when `cursor` is not after it (seen already). No cursor: cannot tell, accept. */
  private advance(channel: CursorChannel, streamId: string, cursor: string | undefined): boolean {
    if (cursor === undefined) return true;
    const last = this.cursors[channel].get(streamId);
    if (last !== undefined && compareCursors(cursor, last) <= 0) return false;
    this.cursors[channel].set(streamId, cursor);
    return true;
  }
}
