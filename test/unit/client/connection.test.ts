import { describe, expect, it, vi } from 'vitest';
import { connect, type PoseEvent } from '../../../client/index.js';
import type { SocketFactory, SocketLike } from '../../../client/socket.js';
import { WIRE_VERSION, type ClientMessage, type ServerMessage } from '../../../pipeline/wire/v1.js';

/** A socket the test drives: records what the client sends, and delivers what the "gateway" says. */
class FakeSocket implements SocketLike {
  binaryType = 'blob';
  readyState = 0;
  readonly sent: ClientMessage[] = [];
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;

  constructor(readonly url: string, readonly token: string | undefined) {}

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  say(message: ServerMessage): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data) as ClientMessage);
  }

  close(code = 1006): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}

function fakeGateway() {
  const sockets: FakeSocket[] = [];
  const factory: SocketFactory = async (url, token) => {
    const socket = new FakeSocket(url, token);
    sockets.push(socket);
    return socket;
  };
  const next = async (count: number) => {
    for (let i = 0; i < 200 && sockets.length < count; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    return sockets[count - 1]!;
  };
  return { sockets, factory, next };
}

const event = (seq: number): PoseEvent => ({
  v: WIRE_VERSION, kind: 'event', id: `cam1:fall:1:${seq}`, streamId: 'cam1', type: 'fall', trackId: 1, seq, captureTs: seq, atSeq: seq, atCaptureTs: seq,
  confidence: 1, attributes: {}, snapshot: true, publishedTs: seq,
});
const hello: ServerMessage = { v: WIRE_VERSION, type: 'hello', server: 'test', heartbeatMs: 15_000, streams: ['cam1'] };

describe('Connection (fake sockets)', () => {
  it('re-subscribes after a drop with the cursor of the last event, and delivers each event once', async () => {
    const gateway = fakeGateway();
    const statuses: string[] = [];
    const client = connect('http://gw:8080', { token: 't0k', socket: gateway.factory, reconnect: { initialMs: 1, maxMs: 2 }, onStatus: (s, d) => statuses.push(`${s}: ${d}`) });
    const got: number[] = [];
    const done = (async () => {
      for await (const e of client.events('cam1')) {
        got.push(e.seq);
        if (got.length === 4) break;
      }
    })();
    const first = await gateway.next(1);
    expect(first.url).toBe('ws://gw:8080/ws');
    expect(first.token).toBe('t0k');
    first.open();
    first.say(hello);
    expect(first.sent).toEqual([{ v: 1, type: 'subscribe', id: 's1', streams: ['cam1'], channels: ['events'] }]);
    first.say({ v: 1, type: 'subscribed', id: 's1', streams: ['cam1'], channels: ['events'], cursors: { cam1: { events: '5-0' } } });
    first.say({ v: 1, type: 'event', event: event(1), cursor: '6-0' });
    first.say({ v: 1, type: 'event', event: event(2), cursor: '7-0' });
    first.close();

    const second = await gateway.next(2);
    second.open();
    second.say(hello);
    expect(second.sent).toEqual([{ v: 1, type: 'subscribe', id: 's1', streams: ['cam1'], channels: ['events'], after: { cam1: { events: '7-0' } } }]);
    // A message the gateway sends twice (in flight when the resume began) and a repeat of an id are dropped.
    second.say({ v: 1, type: 'event', event: event(2), cursor: '7-0' });
    second.say({ v: 1, type: 'event', event: event(3), cursor: '8-0' });
    second.say({ v: 1, type: 'event', event: event(3), cursor: '9-0' });
    second.say({ v: 1, type: 'event', event: event(4), cursor: '10-0' });
    await done;
    expect(got).toEqual([1, 2, 3, 4]);
    expect(statuses).toEqual(expect.arrayContaining(['open: connected', expect.stringMatching(/^closed: disconnected \(1006\); retrying in/)]));
    // Leaving the loop unsubscribed.
    expect(second.sent.at(-1)).toEqual({ v: 1, type: 'unsubscribe', streams: ['cam1'], channels: ['events'] });
    client.close();
  });

  it("leaves a stream the gateway no longer knows out of a '*' resume (it would refuse the whole subscription)", async () => {
    const gateway = fakeGateway();
    const client = connect('ws://gw/ws', { socket: gateway.factory, reconnect: { initialMs: 1 } });
    const stream = client.events('*');
    const first = await gateway.next(1);
    first.open();
    first.say({ ...hello, streams: ['cam1', 'old'] });
    first.say({ v: 1, type: 'event', event: { ...event(1), streamId: 'old', id: 'old:fall:1:1' }, cursor: '3-0' });
    first.say({ v: 1, type: 'event', event: event(2), cursor: '4-0' });
    first.close();
    const second = await gateway.next(2);
    second.open();
    expect(second.sent).toEqual([]);
    second.say(hello);
    expect(second.sent).toEqual([{ v: 1, type: 'subscribe', id: 's1', streams: ['*'], channels: ['events'], after: { cam1: { events: '4-0' } } }]);
    stream.close();
    client.close();
  });

  it('resumes from the live start of the subscription when nothing arrived before the drop', async () => {
    const gateway = fakeGateway();
    const client = connect('ws://gw/ws', { socket: gateway.factory, reconnect: { initialMs: 1 } });
    const stream = client.events('cam1');
    const first = await gateway.next(1);
    first.open();
    first.say(hello);
    first.say({ v: 1, type: 'subscribed', id: 's1', streams: ['cam1'], channels: ['events'], cursors: { cam1: { events: '5-0' } } });
    first.close();
    const second = await gateway.next(2);
    second.open();
    second.say(hello);
    expect(second.sent[0]).toMatchObject({ after: { cam1: { events: '5-0' } } });
    stream.close();
    client.close();
  });

  it('fails the iteration with the gateway error for its subscription, and ends iterations on close', async () => {
    const gateway = fakeGateway();
    const client = connect('ws://gw/ws', { socket: gateway.factory });
    const refused = client.events('nope')[Symbol.asyncIterator]().next();
    const ending = client.results('cam1')[Symbol.asyncIterator]().next();
    const socket = await gateway.next(1);
    socket.open();
    socket.say(hello);
    socket.say({ v: 1, type: 'error', id: 's1', code: 'PS_WS_UNKNOWN_STREAM', message: 'unknown stream(s): nope; known: cam1' });
    await expect(refused).rejects.toThrow('PS_WS_UNKNOWN_STREAM: unknown stream(s): nope');
    client.close();
    await expect(ending).resolves.toEqual({ value: undefined, done: true });
  });

  it('pings every heartbeat period, drops a connection silent past 2.5 periods and connects again', async () => {
    vi.useFakeTimers();
    try {
      const gateway = fakeGateway();
      const client = connect('ws://gw/ws', { socket: gateway.factory, heartbeatMs: 1_000, reconnect: { initialMs: 10, jitter: 0 } });
      await vi.advanceTimersByTimeAsync(0);
      const first = gateway.sockets[0]!;
      first.open();
      await vi.advanceTimersByTimeAsync(2_000);
      expect(first.sent).toEqual([{ v: 1, type: 'ping' }, { v: 1, type: 'ping' }]);
      expect(gateway.sockets).toHaveLength(1);
      // Silent for 3 s > 2.5 periods: dropped, and a new connection 10 ms later.
      await vi.advanceTimersByTimeAsync(1_020);
      expect(gateway.sockets).toHaveLength(2);
      client.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
