import {
  decodeFrameMessage,
  serverMessageSchema,
  WIRE_VERSION,
  type Channel,
  type ClientMessage,
  type FrameHeader,
  type PoseEvent,
  type ServerMessage,
  type StreamResult,
  type StreamState,
} from '../pipeline/wire/v1.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { ResumeTracker, type SubscriptionSpec } from './resume.js';
import { defaultSocketFactory, SOCKET_OPEN, type SocketFactory, type SocketLike } from './socket.js';

/**
 * One WebSocket to the gateway that comes back by itself: reconnects with back-off, re-sends every subscription
 * with the cursors of what was already received (ResumeTracker), and hands each result, event, state and frame
 * to the subscriptions that asked for it, once. Liveness: the client pings every heartbeat period and drops a
 * connection that has been silent for 2.5 periods (a server that vanished without closing TCP).
 */

export type ConnectionStatus = 'connecting' | 'open' | 'closed';

/** What a subscription receives: each result/event once, in order, across reconnects. */
export type Delivery =
  | { type: 'result'; result: StreamResult }
  | { type: 'event'; event: PoseEvent }
  | { type: 'state'; state: StreamState }
  | { type: 'frame'; header: FrameHeader; jpeg: Uint8Array }
  /** The gateway dropped `count` messages of `channel` for this connection so far (frames, results of a slow reader). */
  | { type: 'dropped'; streamId: string; channel: Channel; count: number };

export interface ConnectionOptions {
  /** The gateway token, or a function giving the current one (read at every connection attempt). */
  token?: string | (() => string | undefined);
  /** Opens the socket; default: the browser's WebSocket, or `ws` in Node. */
  socket?: SocketFactory;
  reconnect?: BackoffOptions;
  /** Ping period until the gateway's hello says its own (ms). */
  heartbeatMs?: number;
  onStatus?: (status: ConnectionStatus, detail: string) => void;
  /** Gateway errors that belong to no subscription, and connection problems. */
  onError?: (error: Error) => void;
  /** The gateway's hello: the streams it knows. */
  onHello?: (streams: string[]) => void;
}

export interface ActiveSubscription {
  readonly spec: SubscriptionSpec;
  deliver(delivery: Delivery): void;
  /** The gateway refused the subscription (an unknown stream, ...), or the client closed. */
  fail(error: Error): void;
}

/** Given to subscriptions when the client itself was closed: not a failure, iterations just end. */
export class ClientClosedError extends Error {
  constructor() {
    super('the client was closed');
    this.name = 'ClientClosedError';
  }
}

export class GatewayError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'GatewayError';
  }
}

function covers(spec: SubscriptionSpec, channel: Channel, streamId: string): boolean {
  return spec.channels.includes(channel) && (spec.streams.includes('*') || spec.streams.includes(streamId));
}

export class Connection {
  readonly tracker = new ResumeTracker();
  private readonly subscriptions = new Map<string, ActiveSubscription>();
  private readonly backoff: Backoff;
  private readonly socketFactory: SocketFactory;
  private socket: SocketLike | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private heartbeatMs: number;
  private lastHeard = 0;
  /** The current socket's hello arrived: subscriptions go out from then on. */
  private helloed = false;
  private nextId = 1;
  private stopped = false;
  private status: ConnectionStatus = 'closed';

  constructor(
    private readonly url: string,
    private readonly options: ConnectionOptions = {},
  ) {
    this.backoff = new Backoff(options.reconnect);
    this.socketFactory = options.socket ?? defaultSocketFactory();
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    void this.open();
  }

  get currentStatus(): ConnectionStatus {
    return this.status;
  }

  /** Starts a subscription now (when connected) and again after every reconnect; returns its release. */
  add(subscription: ActiveSubscription): () => void {
    const id = `s${this.nextId++}`;
    this.subscriptions.set(id, subscription);
    if (this.socket?.readyState === SOCKET_OPEN && this.helloed) this.sendSubscribe(id, subscription.spec);
    return () => this.remove(id);
  }

  /** Something changed (a new token): try at once instead of after the back-off. */
  reconnectNow(): void {
    if (this.stopped || this.socket?.readyState === SOCKET_OPEN) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.dropSocket();
    this.backoff.reset();
    void this.open();
  }

  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.stopHeartbeat();
    this.socket?.close(1000, 'client closed');
    this.socket = undefined;
    for (const subscription of this.subscriptions.values()) subscription.fail(new ClientClosedError());
    this.subscriptions.clear();
    this.setStatus('closed', 'closed');
  }

  private remove(id: string): void {
    const subscription = this.subscriptions.get(id);
    if (!subscription) return;
    this.subscriptions.delete(id);
    if (this.socket?.readyState !== SOCKET_OPEN) return;
    // Unsubscribe only what no other subscription still wants (the gateway keeps one set per connection).
    const { spec } = subscription;
    for (const channel of spec.channels) {
      const streams = spec.streams.filter((streamId) => ![...this.subscriptions.values()].some((other) => covers(other.spec, channel, streamId)));
      if (streams.length > 0) this.send({ v: WIRE_VERSION, type: 'unsubscribe', streams, channels: [channel] });
    }
  }

  private token(): string | undefined {
    const { token } = this.options;
    return (typeof token === 'function' ? token() : token) || undefined;
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    this.setStatus('connecting', 'connecting');
    let socket: SocketLike;
    try {
      socket = await this.socketFactory(this.url, this.token());
    } catch (error) {
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
      this.scheduleReconnect('could not open a socket');
      return;
    }
    if (this.stopped) {
      socket.close();
      return;
    }
    this.socket = socket;
    this.helloed = false;
    socket.binaryType = 'arraybuffer';
    let problem = '';
    socket.onopen = () => {
      this.lastHeard = Date.now();
      this.setStatus('open', 'connected');
      // Subscriptions are (re)sent on the gateway's hello, which lists the streams a resume may name.
      this.startHeartbeat();
    };
    socket.onmessage = (event) => {
      this.lastHeard = Date.now();
      this.onMessage(event.data);
    };
    socket.onerror = (event) => {
      problem = event.message ?? '';
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.stopHeartbeat();
      if (this.stopped) return;
      // `ws` reports a refused upgrade as an error before the close ("Unexpected server response: 401").
      const refused = /\b401\b/.test(problem);
      if (refused) this.options.onError?.(new GatewayError('PS_AUTH_REQUIRED', 'the gateway refused the token (401)'));
      this.scheduleReconnect(`disconnected${event.code ? ` (${event.code})` : ''}${refused ? ': token refused' : ''}`);
    };
  }

  private scheduleReconnect(reason: string): void {
    if (this.stopped) return;
    const wait = this.backoff.next();
    this.setStatus('closed', `${reason}; retrying in ${(wait / 1000).toFixed(1)} s`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.open();
    }, wait);
  }

  /** Forgets a socket without its close triggering a reconnect (a fresh attempt is being made). */
  private dropSocket(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.stopHeartbeat();
    if (!socket) return;
    socket.onclose = null;
    socket.onmessage = null;
    socket.close();
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => {
      if (Date.now() - this.lastHeard > 2.5 * this.heartbeatMs) {
        // Silent for too long: treat as gone (close() alone may wait for a peer that is not there).
        const socket = this.socket;
        this.dropSocket();
        this.scheduleReconnect('the gateway stopped answering');
        (socket as { terminate?: () => void } | undefined)?.terminate?.();
        return;
      }
      this.send({ v: WIRE_VERSION, type: 'ping' });
    }, this.heartbeatMs);
    (this.heartbeatTimer as { unref?: () => void }).unref?.();
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private setStatus(status: ConnectionStatus, detail: string): void {
    this.status = status;
    this.options.onStatus?.(status, detail);
  }

  private sendSubscribe(id: string, spec: SubscriptionSpec): void {
    this.send(this.tracker.subscribeMessage(spec, id));
  }

  private send(message: ClientMessage): void {
    if (this.socket?.readyState === SOCKET_OPEN) this.socket.send(JSON.stringify(message));
  }

  private onMessage(data: unknown): void {
    if (typeof data !== 'string') {
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : undefined;
      if (bytes) this.onFrame(bytes);
      return;
    }
    let parsed: ReturnType<typeof serverMessageSchema.safeParse>;
    try {
      parsed = serverMessageSchema.safeParse(JSON.parse(data));
    } catch {
      this.options.onError?.(new Error('the gateway sent a message that is not JSON'));
      return;
    }
    // A message type from a newer gateway is not an error: it is skipped.
    if (parsed.success) this.handle(parsed.data);
  }

  private onFrame(bytes: Uint8Array): void {
    let frame: ReturnType<typeof decodeFrameMessage>;
    try {
      frame = decodeFrameMessage(bytes);
    } catch (error) {
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.fanOut('frames', frame.header.streamId, { type: 'frame', header: frame.header, jpeg: frame.jpeg });
  }

  private handle(message: ServerMessage): void {
    switch (message.type) {
      case 'hello': {
        this.backoff.reset();
        this.heartbeatMs = message.heartbeatMs > 0 ? message.heartbeatMs : this.heartbeatMs;
        this.startHeartbeat();
        // Cursors of streams that are gone would make the gateway refuse a resume of '*'.
        const known = new Set(message.streams);
        for (const streamId of Object.keys(this.tracker.snapshot())) if (!known.has(streamId)) this.tracker.forget(streamId);
        this.helloed = true;
        for (const [id, subscription] of this.subscriptions) this.sendSubscribe(id, subscription.spec);
        this.options.onHello?.(message.streams);
        return;
      }
      case 'subscribed':
        this.tracker.noteLiveStart(message.cursors);
        return;
      case 'result': {
        const { result } = message;
        const viaResults = this.wants('results', result.streamId);
        if (!this.tracker.acceptResult(result, message.cursor, viaResults)) return;
        const delivery: Delivery = { type: 'result', result };
        for (const subscription of this.subscriptions.values()) {
          const spec = subscription.spec;
          if (covers(spec, 'results', result.streamId) || (result.kind === 'eos' && covers(spec, 'events', result.streamId))) subscription.deliver(delivery);
        }
        return;
      }
      case 'event':
        if (this.tracker.acceptEvent(message.event, message.cursor)) this.fanOut('events', message.event.streamId, { type: 'event', event: message.event });
        return;
      case 'state':
        this.fanOut('state', message.state.streamId, { type: 'state', state: message.state });
        return;
      case 'dropped':
        this.fanOut(message.channel, message.streamId, { type: 'dropped', streamId: message.streamId, channel: message.channel, count: message.count });
        return;
      case 'error': {
        const error = new GatewayError(message.code, message.message);
        const subscription = message.id !== undefined ? this.subscriptions.get(message.id) : undefined;
        if (subscription) {
          this.subscriptions.delete(message.id!);
          subscription.fail(error);
        } else this.options.onError?.(error);
        return;
      }
      default:
        return;
    }
  }

  private wants(channel: Channel, streamId: string): boolean {
    for (const subscription of this.subscriptions.values()) if (covers(subscription.spec, channel, streamId)) return true;
    return false;
  }

  private fanOut(channel: Channel, streamId: string, delivery: Delivery): void {
    for (const subscription of this.subscriptions.values()) if (covers(subscription.spec, channel, streamId)) subscription.deliver(delivery);
  }
}
