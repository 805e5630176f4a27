import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { Logger } from '../../pipeline/obs/logger.js';
import type { Metrics } from '../../pipeline/obs/metrics.js';
import { compareEntryIds, type ResultEntry } from '../../pipeline/redis/codec.js';
import type { PoseEventEntry } from '../../pipeline/redis/event-stream.js';
import {
  WIRE_VERSION,
  type Channel,
  type ClientMessage,
  type ServerMessage,
  type StreamCursors,
  type StreamResult,
  type StreamState,
} from '../../pipeline/wire/v1.js';
import { ClientQueue, type OutgoingMessage, type QueueChannel } from './client-queue.js';
import { parseClientMessage } from './client-message.js';

/**
 * The WebSocket side of the gateway: one HubClient per connection with its subscriptions and its bounded
 * ClientQueue. Everything published here was read from Redis once by the gateway (one follow loop for results,
 * one for previews) and is serialised once, then shared by every subscriber.
 */

export interface HubOptions {
  logger: Logger;
  metrics: Metrics;
  clientQueueLimit: number;
  heartbeatMs: number;
  serverName: string;
  /** Ids in the registry: validates subscriptions and expands "*". */
  knownStreams: () => string[];
  currentStates: () => Promise<StreamState[]>;
  /** Retained results or events after `afterId` (exclusive), oldest first, as the messages that carry them. */
  replay: (channel: ReplayChannel, streamId: string, afterId: string | undefined, count: number) => Promise<ReplayedEntry[]>;
  /**
   * The stream's end-of-stream when its results end with one (the stream is over): an events replay ends with it,
   * as a results replay does, so a follower of a finished stream's events knows there will be no more.
   */
  endOfStream: (streamId: string) => Promise<ReplayedEntry | undefined>;
  /** Called when the set of streams whose frames somebody watches may have changed. */
  onFrameInterestChanged: () => void;
  /**
   * The entry ids of the stream's results and events last handed to publishResult / publishEvent: a new live
   * subscriber gets everything after them (sent in `subscribed.cursors`, so it can resume from there).
   */
  liveCursors?: (streamId: string) => { results?: string; events?: string } | undefined;
}

export interface FrameInterest {
  annotated: boolean;
  plain: boolean;
}

/** The channels whose history Redis keeps, which `fromStart` replays: exactly once and in order, then live. */
export type ReplayChannel = 'results' | 'events';
const REPLAY_CHANNELS: readonly ReplayChannel[] = ['results', 'events'];

export interface ReplayedEntry {
  entryId: string;
  message: ServerMessage;
}

/**
 * Live messages that arrive while a client's replay of that stream and channel is running (a replay of the full
 * retention runs in seconds; a client that stops reading mid-replay is closed by the heartbeat). Past this the
 * oldest results are dropped and counted like any other drop; events are never dropped, so a client that far behind
 * is closed instead (it reconnects and replays again).
 */
const REPLAY_LIVE_BUFFER_LIMIT = 1_000;

interface LiveItem {
  /** Absent for a message that follows the replay whatever it covered (an end-of-stream on the events channel). */
  entryId?: string;
  /** An end-of-stream on the events channel: its results entry id (the replay may have sent it already). */
  endId?: string;
  payload: string;
}

interface ReplayState {
  live: LiveItem[];
  /** Replay strictly after this entry id (a client's resume cursor); absent: from the oldest retained. */
  after?: string;
}

class HubClient {
  readonly results = new Set<string>();
  readonly events = new Set<string>();
  readonly states = new Set<string>();
  /** stream id or "*" -> annotated */
  readonly frames = new Map<string, boolean>();
  readonly replays: Record<ReplayChannel, Map<string, ReplayState>> = { results: new Map(), events: new Map() };
  alive = true;

  constructor(
    readonly ws: WebSocket,
    readonly queue: ClientQueue,
    readonly remote: string,
  ) {}

  wantsResults(streamId: string): boolean {
    return this.results.has(streamId) || this.results.has('*');
  }

  wantsEvents(streamId: string): boolean {
    return this.events.has(streamId) || this.events.has('*');
  }

  wantsState(streamId: string): boolean {
    return this.states.has(streamId) || this.states.has('*');
  }

  frameVariant(streamId: string): boolean | undefined {
    return this.frames.get(streamId) ?? this.frames.get('*');
  }
}

function text(message: ServerMessage): string {
  return JSON.stringify(message);
}

export class Hub {
  private readonly clients = new Set<HubClient>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly options: HubOptions) {
    this.heartbeat = setInterval(() => this.checkHeartbeats(), options.heartbeatMs);
    this.heartbeat.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  attach(ws: WebSocket, request: IncomingMessage): void {
    const { metrics, logger } = this.options;
    const queue = new ClientQueue(
      {
        send: (data, sendOptions, callback) => ws.send(data, sendOptions, callback),
      },
      {
        limit: this.options.clientQueueLimit,
        droppedNotice: (streamId, channel, count) => text({ v: WIRE_VERSION, type: 'dropped', streamId, channel, count }),
        onDrop: (channel) => metrics.wsDropped.inc({ channel }),
      },
    );
    const client = new HubClient(ws, queue, request.socket.remoteAddress ?? 'unknown');
    this.clients.add(client);
    metrics.wsClients.set(this.clients.size);
    logger.debug({ remote: client.remote, clients: this.clients.size }, 'websocket client connected');

    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('message', (data, isBinary) => this.onMessage(client, data as Buffer, isBinary));
    ws.on('error', (error) => logger.debug({ err: error, remote: client.remote }, 'websocket client error'));
    ws.on('close', () => {
      const hadFrames = client.frames.size > 0;
      client.queue.close();
      for (const channel of REPLAY_CHANNELS) client.replays[channel].clear();
      this.clients.delete(client);
      metrics.wsClients.set(this.clients.size);
      if (hadFrames) this.options.onFrameInterestChanged();
    });
    this.send(client, {
      v: WIRE_VERSION,
      type: 'hello',
      server: this.options.serverName,
      heartbeatMs: this.options.heartbeatMs,
      streams: this.options.knownStreams(),
    });
  }

  /**
   * One result read from Redis, fanned out to every subscriber; serialised at most once. The end-of-stream also goes
   * to those who follow only the stream's events (it tells them there will be no more).
   */
  publishResult(streamId: string, entry: ResultEntry): void {
    let payload: string | undefined;
    const end = entry.result.kind === 'eos';
    for (const client of this.clients) {
      const viaResults = client.wantsResults(streamId);
      if (!viaResults && !(end && client.wantsEvents(streamId))) continue;
      payload ??= text({ v: WIRE_VERSION, type: 'result', result: entry.result, cursor: entry.entryId });
      if (viaResults) this.deliver(client, 'results', streamId, { entryId: entry.entryId, payload }, resultChannel(entry.result));
      else this.deliver(client, 'events', streamId, { endId: entry.entryId, payload }, 'control');
    }
  }

  /** One pose event read from Redis, to every subscriber of the stream's events; never dropped for a slow client. */
  publishEvent(streamId: string, entry: PoseEventEntry): void {
    let payload: string | undefined;
    for (const client of this.clients) {
      if (!client.wantsEvents(streamId)) continue;
      payload ??= text({ v: WIRE_VERSION, type: 'event', event: entry.event, cursor: entry.entryId });
      this.deliver(client, 'events', streamId, { entryId: entry.entryId, payload }, 'control');
    }
  }

  /** Sends a live message, or holds it behind the client's running replay of that stream and channel. */
  private deliver(client: HubClient, channel: ReplayChannel, streamId: string, item: LiveItem, queueChannel: QueueChannel): void {
    const replay = client.replays[channel].get(streamId);
    if (!replay) {
      this.enqueue(client, { data: item.payload, binary: false, channel: queueChannel, streamId });
      return;
    }
    replay.live.push(item);
    if (replay.live.length <= REPLAY_LIVE_BUFFER_LIMIT) return;
    if (channel === 'results') {
      replay.live.shift();
      client.queue.recordDrop('results', streamId);
      return;
    }
    this.options.logger.warn({ remote: client.remote, streamId }, 'websocket client fell too far behind its event replay; closing it');
    this.options.metrics.wsRejected.inc({ reason: 'overflow' });
    client.queue.close();
    client.ws.terminate();
  }

  /**
   * The variants of this stream's next frame that some subscriber can take now. Subscribers whose socket is not
   * draining are left out: rendering a frame only they want costs CPU that the other clients would pay for.
   */
  frameDemand(streamId: string): FrameInterest {
    const demand = { annotated: false, plain: false };
    for (const client of this.clients) {
      const annotated = client.frameVariant(streamId);
      if (annotated === undefined || client.queue.congested) continue;
      if (annotated) demand.annotated = true;
      else demand.plain = true;
    }
    return demand;
  }

  /**
   * One frame of a stream, as encoded frame messages (header + JPEG) per variant, each shared by all of its
   * subscribers. A subscriber whose variant was not rendered or whose socket is congested gets the frame counted as
   * dropped (and is told so), exactly as if its queue had evicted it.
   */
  publishFrames(streamId: string, messages: { plain?: Uint8Array; annotated?: Uint8Array }): void {
    for (const client of this.clients) {
      const annotated = client.frameVariant(streamId);
      if (annotated === undefined) continue;
      const message = annotated ? messages.annotated : messages.plain;
      if (!message || client.queue.congested) {
        client.queue.recordDrop('frames', streamId);
        continue;
      }
      this.enqueue(client, { data: message, binary: true, channel: 'frames', streamId });
    }
  }

  publishState(state: StreamState): void {
    let payload: string | undefined;
    for (const client of this.clients) {
      if (!client.wantsState(state.streamId)) continue;
      payload ??= text({ v: WIRE_VERSION, type: 'state', state });
      this.enqueue(client, { data: payload, binary: false, channel: 'control', streamId: state.streamId });
    }
  }

  /** Which streams need preview frames, and in which variants. */
  frameInterest(): Map<string, FrameInterest> {
    const interest = new Map<string, FrameInterest>();
    const known = this.options.knownStreams();
    const registered = new Set(known);
    for (const client of this.clients) {
      for (const [target, annotated] of client.frames) {
        for (const streamId of target === '*' ? known : [target]) {
          if (!registered.has(streamId)) continue;
          const entry = interest.get(streamId) ?? { annotated: false, plain: false };
          if (annotated) entry.annotated = true;
          else entry.plain = true;
          interest.set(streamId, entry);
        }
      }
    }
    return interest;
  }

  /**
   * Says goodbye (close 1001) to every client and waits up to graceMs for the close handshakes; clients that do not
   * answer (a stalled reader never will) are terminated, so shutdown never waits on a client.
   */
  async close(graceMs = 1_000): Promise<void> {
    clearInterval(this.heartbeat);
    const clients = [...this.clients];
    const closed = clients.map(
      (client) =>
        new Promise<void>((resolve) => {
          if (client.ws.readyState === client.ws.CLOSED) return resolve();
          client.ws.once('close', () => resolve());
        }),
    );
    for (const client of clients) {
      client.queue.close();
      client.ws.close(1001, 'gateway shutting down');
    }
    const timer = setTimeout(() => {
      for (const client of clients) client.ws.terminate();
    }, graceMs);
    await Promise.all(closed);
    clearTimeout(timer);
  }

  private checkHeartbeats(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        this.options.logger.info({ remote: client.remote }, 'websocket client missed a heartbeat; closing it');
        this.options.metrics.wsRejected.inc({ reason: 'heartbeat' });
        client.ws.terminate();
        continue;
      }
      client.alive = false;
      client.ws.ping();
    }
  }

  private onMessage(client: HubClient, data: Buffer, isBinary: boolean): void {
    const parsed = parseClientMessage(data, isBinary);
    if (!parsed.ok) {
      this.options.metrics.wsRejected.inc({ reason: parsed.code });
      this.sendError(client, parsed.code, parsed.message, parsed.id);
      return;
    }
    this.handle(client, parsed.message).catch((error: unknown) => {
      this.options.logger.warn({ err: error, remote: client.remote }, 'websocket message handling failed');
      this.sendError(client, 'PS_WS_INTERNAL', 'the gateway could not handle this message; see its log', parsed.message.id);
    });
  }

  private async handle(client: HubClient, message: ClientMessage): Promise<void> {
    if (message.type === 'ping') {
      this.send(client, { v: WIRE_VERSION, type: 'pong', id: message.id, ts: Date.now() });
      return;
    }
    const known = new Set(this.options.knownStreams());
    const unknown = message.streams.filter((id) => id !== '*' && !known.has(id));
    if (message.type === 'subscribe' && message.after) {
      const notSubscribed = Object.keys(message.after).filter((id) => !message.streams.includes(id) && !message.streams.includes('*'));
      if (notSubscribed.length > 0) {
        this.options.metrics.wsRejected.inc({ reason: 'PS_WS_INVALID' });
        this.sendError(client, 'PS_WS_INVALID', `after: stream(s) not in this subscription: ${notSubscribed.join(', ')}`, message.id);
        return;
      }
      for (const id of Object.keys(message.after)) if (!known.has(id) && !unknown.includes(id)) unknown.push(id);
    }
    if (unknown.length > 0) {
      this.options.metrics.wsRejected.inc({ reason: 'PS_WS_UNKNOWN_STREAM' });
      this.sendError(client, 'PS_WS_UNKNOWN_STREAM', `unknown stream(s): ${unknown.join(', ')}; known: ${[...known].join(', ') || '(none)'}`, message.id);
      return;
    }
    const channels = [...new Set(message.channels)];
    if (message.type === 'unsubscribe') {
      this.unsubscribe(client, message.streams, channels);
      this.send(client, { v: WIRE_VERSION, type: 'unsubscribed', id: message.id, streams: message.streams, channels });
      return;
    }
    for (const streamId of message.streams) {
      if (channels.includes('results')) client.results.add(streamId);
      if (channels.includes('events')) client.events.add(streamId);
      if (channels.includes('state')) client.states.add(streamId);
      if (channels.includes('frames')) client.frames.set(streamId, message.annotated ?? true);
    }
    const targets = message.streams.includes('*') ? [...known] : message.streams;
    // Buffer live messages from this instant, before the reply, so each replay can hand over without a gap.
    // A replay already running for a stream and channel (an earlier subscribe) carries on alone.
    const cursors: StreamCursors = {};
    const replays: Array<{ channel: ReplayChannel; streamId: string; replay: ReplayState }> = [];
    for (const channel of REPLAY_CHANNELS.filter((c) => channels.includes(c))) {
      for (const streamId of targets) {
        const after = message.after?.[streamId]?.[channel];
        if (after !== undefined || message.fromStart) {
          if (client.replays[channel].has(streamId)) continue;
          const replay: ReplayState = after === undefined ? { live: [] } : { live: [], after };
          client.replays[channel].set(streamId, replay);
          replays.push({ channel, streamId, replay });
          continue;
        }
        // Behind a running replay, live starts wherever that replay hands over: no live cursor to give.
        if (client.replays[channel].has(streamId)) continue;
        const live = this.options.liveCursors?.(streamId)?.[channel];
        if (live !== undefined) (cursors[streamId] ??= {})[channel] = live;
      }
    }
    this.send(client, {
      v: WIRE_VERSION,
      type: 'subscribed',
      id: message.id,
      streams: message.streams,
      channels,
      ...(Object.keys(cursors).length > 0 ? { cursors } : {}),
    });
    if (channels.includes('frames')) this.options.onFrameInterestChanged();
    if (channels.includes('state')) {
      const states = await this.options.currentStates();
      for (const state of states) {
        if (targets.includes(state.streamId)) this.send(client, { v: WIRE_VERSION, type: 'state', state });
      }
    }
    for (const { channel, streamId, replay } of replays) await this.replay(client, channel, streamId, replay);
  }

  private unsubscribe(client: HubClient, streams: string[], channels: Channel[]): void {
    let framesChanged = false;
    for (const streamId of streams) {
      if (channels.includes('results')) {
        client.results.delete(streamId);
        client.replays.results.delete(streamId);
      }
      if (channels.includes('events')) {
        client.events.delete(streamId);
        client.replays.events.delete(streamId);
      }
      if (channels.includes('state')) client.states.delete(streamId);
      if (channels.includes('frames')) framesChanged = client.frames.delete(streamId) || framesChanged;
    }
    if (framesChanged) this.options.onFrameInterestChanged();
  }

  /**
   * Sends the retained history page by page, paced by the client (never dropped), then hands over to live: live
   * messages that arrived meanwhile were buffered, and those already covered by the replay (id <= last replayed id)
   * are skipped, so the client sees every result or event exactly once and in order. A resume starts after the
   * client's cursor instead of at the oldest retained entry.
   */
  private async replay(client: HubClient, channel: ReplayChannel, streamId: string, state: ReplayState): Promise<void> {
    const pageSize = Math.max(1, Math.min(256, Math.floor(this.options.clientQueueLimit / 2)));
    const current = () => client.replays[channel].get(streamId) === state;
    let afterId = state.after;
    for (;;) {
      if (!(await client.queue.waitForRoom()) || !current()) return;
      const page = await this.options.replay(channel, streamId, afterId, pageSize);
      if (!current()) return;
      for (const entry of page) this.send(client, withCursor(entry));
      if (page.length > 0) afterId = page[page.length - 1]!.entryId;
      if (page.length < pageSize) break;
    }
    const end = channel === 'events' ? await this.options.endOfStream(streamId) : undefined;
    if (!current()) return;
    if (end) this.send(client, withCursor(end));
    client.replays[channel].delete(streamId);
    for (const item of state.live) {
      if (item.entryId !== undefined && afterId !== undefined && compareEntryIds(item.entryId, afterId) <= 0) continue;
      if (item.endId !== undefined && item.endId === end?.entryId) continue;
      this.enqueue(client, { data: item.payload, binary: false, channel: 'control' });
    }
  }

  private send(client: HubClient, message: ServerMessage): void {
    this.enqueue(client, { data: text(message), binary: false, channel: 'control' });
  }

  private sendError(client: HubClient, code: string, message: string, id?: string): void {
    this.send(client, { v: WIRE_VERSION, type: 'error', id, code, message });
  }

  private enqueue(client: HubClient, message: OutgoingMessage): void {
    if (client.queue.enqueue(message) === 'overflow') {
      this.options.logger.warn({ remote: client.remote }, 'websocket client send queue overflowed; closing it');
      this.options.metrics.wsRejected.inc({ reason: 'overflow' });
      client.queue.close();
      client.ws.terminate();
    }
  }
}

/** A replayed result or event carries its entry id as `cursor`, exactly like a live one. */
function withCursor(entry: ReplayedEntry): ServerMessage {
  const { message } = entry;
  return message.type === 'result' || message.type === 'event' ? { ...message, cursor: entry.entryId } : message;
}

/** End-of-stream is rare and final (watchers exit on it), so it is never dropped. */
function resultChannel(result: StreamResult): 'results' | 'control' {
  return result.kind === 'eos' ? 'control' : 'results';
}
