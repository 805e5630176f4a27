import type { Channel, EndOfStream, PoseEvent, PoseResult, StreamResult, StreamState } from '../pipeline/wire/v1.js';
import { AsyncQueue } from './async-queue.js';
import { ClientClosedError, Connection, type ConnectionOptions, type ConnectionStatus, type Delivery } from './connection.js';
import type { SubscriptionSpec } from './resume.js';
import { websocketUrl } from './socket.js';

/**
 * posestream/client: results and pose events of a posestream gateway, in Node and in browsers.
 *
 *   import { connect } from 'posestream/client';
 *   const client = connect('ws://gateway:8080', { token: process.env.POSESTREAM_TOKEN });
 *   for await (const event of client.events('cam1')) console.log(event.type, event.trackId);
 *
 * Messages are validated with the gateway's own zod schemas (pipeline/wire/v1.ts). The connection reconnects with
 * back-off and resumes every subscription right after the last result and event it delivered: nothing is missed
 * while Redis still retains it (results.retention results, events.retentionSec of events), nothing is delivered
 * twice. See docs/client.md.
 */

export type { Channel, EndOfStream, PoseEvent, PoseResult, StreamResult, StreamState } from '../pipeline/wire/v1.js';
export type { ConnectionStatus, Delivery } from './connection.js';
export type { SubscriptionSpec } from './resume.js';
export type { SocketFactory, SocketLike } from './socket.js';
export { ClientClosedError, GatewayError } from './connection.js';

export interface ConnectOptions extends Omit<ConnectionOptions, 'onStatus'> {
  /** Resolves a relative address (the dashboard passes location.href). */
  base?: string;
  onStatus?: (status: ConnectionStatus, detail: string) => void;
}

export interface IterateOptions {
  /** Start with what Redis still retains of the stream(s), then follow live. Default: from now on. */
  fromStart?: boolean;
  /** End the iteration once every named stream has ended (its end-of-stream); not with '*'. */
  untilEnd?: boolean;
  /** Messages held for a consumer that does not keep up before the iteration fails (default 10000). */
  maxBuffered?: number;
}

/** An async iterable that can also be stopped from outside the loop. */
export interface Stream<T> extends AsyncIterableIterator<T> {
  close(): void;
}

export interface Subscription {
  close(): void;
}

const DEFAULT_MAX_BUFFERED = 10_000;

export class PosestreamClient {
  private readonly connection: Connection;

  constructor(url: string, options: ConnectOptions = {}) {
    this.connection = new Connection(websocketUrl(url, options.base), options);
  }

  get status(): ConnectionStatus {
    return this.connection.currentStatus;
  }

  /** The pose events of one stream, several, or '*' (every stream, also those added later). */
  events(streams: string | string[], options: IterateOptions = {}): Stream<PoseEvent> {
    return this.iterate(streams, 'events', options, (delivery) => (delivery.type === 'event' ? delivery.event : undefined));
  }

  /** The results of one stream, several, or '*': pose results and, for a finite source, its end-of-stream. */
  results(streams: string | string[], options: IterateOptions = {}): Stream<StreamResult> {
    return this.iterate(streams, 'results', options, (delivery) => (delivery.type === 'result' ? delivery.result : undefined));
  }

  /** Stream states (running, reconnecting with the reason, ...): the current one first, then each change. */
  states(streams: string | string[], options: Pick<IterateOptions, 'maxBuffered'> = {}): Stream<StreamState> {
    return this.iterate(streams, 'state', options, (delivery) => (delivery.type === 'state' ? delivery.state : undefined));
  }

  /**
   * Callback form of every channel at once (what the dashboard uses): results, events, states, frames and drop
   * notices for `spec`, kept across reconnects like the iterators. `onError`: the gateway refused it.
   */
  subscribe(spec: SubscriptionSpec, listener: (delivery: Delivery) => void, onError?: (error: Error) => void): Subscription {
    const release = this.connection.add({ spec: normalise(spec), deliver: listener, fail: (error) => onError?.(error) });
    return { close: release };
  }

  /** Try to connect now rather than after the back-off (e.g. after the token changed). */
  reconnectNow(): void {
    this.connection.reconnectNow();
  }

  /** Closes the connection; running iterations end. */
  close(): void {
    this.connection.close();
  }

  private iterate<T>(streams: string | string[], channel: Channel, options: IterateOptions, pick: (delivery: Delivery) => T | undefined): Stream<T> {
    const spec = normalise({ streams: typeof streams === 'string' ? [streams] : streams, channels: [channel], ...(options.fromStart ? { fromStart: true } : {}) });
    if (options.untilEnd && spec.streams.includes('*')) throw new Error("untilEnd needs stream ids, not '*'");
    const pending = new Set(spec.streams);
    let release = () => undefined as void;
    const queue = new AsyncQueue<T>(options.maxBuffered ?? DEFAULT_MAX_BUFFERED, () => release());
    release = this.connection.add({
      spec,
      deliver: (delivery) => {
        const value = pick(delivery);
        if (value !== undefined) queue.push(value);
        if (options.untilEnd && delivery.type === 'result' && delivery.result.kind === 'eos') {
          pending.delete(delivery.result.streamId);
          if (pending.size === 0) queue.end();
        }
      },
      fail: (error) => queue.end(error instanceof ClientClosedError ? undefined : error),
    });
    return Object.assign(queue, { close: () => void queue.return() });
  }
}

function normalise(spec: SubscriptionSpec): SubscriptionSpec {
  const streams = [...new Set(spec.streams)];
  if (streams.length === 0) throw new Error('subscribe to at least one stream id (or "*")');
  return { ...spec, streams, channels: [...new Set(spec.channels)] };
}

/** Connects to a posestream gateway (ws://, wss://, http:// or https:// address; the /ws path is added). */
export function connect(url: string, options: ConnectOptions = {}): PosestreamClient {
  return new PosestreamClient(url, options);
}
