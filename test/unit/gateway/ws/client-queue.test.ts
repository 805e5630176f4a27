import { describe, expect, it } from 'vitest';
import { ClientQueue, type MessageSink, type OutgoingMessage } from '../../../../gateway/ws/client-queue.js';

/** A socket whose writes complete only when the test says so (a client that stopped reading). */
class ManualSink implements MessageSink {
  readonly sent: Array<{ data: Uint8Array | string; done: (error?: Error) => void }> = [];
  send(data: Uint8Array | string, _options: { binary: boolean }, callback: (error?: Error) => void): void {
    this.sent.push({ data, done: callback });
  }
  flushAll(): void {
    while (this.sent.some((s) => s.done !== noop)) {
      for (const entry of this.sent) {
        const done = entry.done;
        entry.done = noop;
        done();
      }
    }
  }
  texts(): string[] {
    return this.sent.map((s) => (typeof s.data === 'string' ? s.data : `<${s.data.byteLength} bytes>`));
  }
}
const noop = () => undefined;

const frame = (streamId: string, n: number): OutgoingMessage => ({ data: new Uint8Array(1000).fill(n), binary: true, channel: 'frames', streamId });
const result = (streamId: string, seq: number): OutgoingMessage => ({ data: `result ${streamId} ${seq}`, binary: false, channel: 'results', streamId });
const control = (text: string): OutgoingMessage => ({ data: text, binary: false, channel: 'control' });
const notice = (streamId: string, channel: string, count: number) => `dropped ${streamId} ${channel} ${count}`;

describe('ClientQueue', () => {
  it('sends at once while the socket keeps up', () => {
    const sink = new ManualSink();
    const queue = new ClientQueue(sink, { limit: 4, droppedNotice: notice });
    expect(queue.enqueue(result('a', 1))).toBe('queued');
    expect(sink.texts()).toEqual(['result a 1']);
    sink.flushAll();
    expect(queue.inFlightBytes).toBe(0);
  });

  it('holds messages once maxInFlightBytes are unflushed, and resumes when the socket drains', () => {
    const sink = new ManualSink();
    const queue = new ClientQueue(sink, { limit: 10, maxInFlightBytes: 2500, droppedNotice: notice });
    for (let i = 0; i < 5; i++) queue.enqueue(frame('a', i));
    expect(sink.sent).toHaveLength(3); // 3000 bytes in flight >= 2500: the rest waits
    expect(queue.length).toBe(2);
    sink.flushAll();
    expect(sink.sent).toHaveLength(5);
    expect(queue.length).toBe(0);
  });

  it('drops the oldest frame first when full, counts it and tells the client once per stream+channel', () => {
    const sink = new ManualSink();
    const drops: string[] = [];
    const queue = new ClientQueue(sink, { limit: 3, maxInFlightBytes: 1, droppedNotice: notice, onDrop: (channel, id) => drops.push(`${channel}:${id}`) });
    queue.enqueue(frame('a', 0)); // in flight
    queue.enqueue(frame('a', 1));
    queue.enqueue(result('a', 1));
    queue.enqueue(frame('b', 2));
    expect(queue.enqueue(frame('b', 3))).toBe('queued'); // evicts frame a#1
    expect(queue.enqueue(frame('b', 4))).toBe('queued'); // evicts frame b#2
    expect(drops).toEqual(['frames:a', 'frames:b']);
    expect(queue.droppedCount('a', 'frames')).toBe(1);
    expect(queue.droppedCount('b', 'frames')).toBe(1);
    sink.flushAll();
    const texts = sink.texts();
    expect(texts).toContain('dropped a frames 1');
    expect(texts).toContain('dropped b frames 1');
    expect(texts).toContain('result a 1');
    expect(texts.filter((t) => t.startsWith('<'))).toHaveLength(3); // frame a#0, b#3, b#4
  });

  it('drops results only when no frame is left to drop, oldest first, and never drops control messages', () => {
    const sink = new ManualSink();
    const queue = new ClientQueue(sink, { limit: 2, maxInFlightBytes: 1, droppedNotice: notice });
    queue.enqueue(control('hello')); // in flight
    queue.enqueue(result('a', 1));
    queue.enqueue(result('a', 2));
    queue.enqueue(control('error 1'));
    expect(queue.enqueue(frame('a', 9))).toBe('dropped'); // full of results: the new frame goes
    expect(queue.enqueue(result('a', 3))).toBe('queued'); // evicts result 1
    sink.flushAll();
    expect(sink.texts()).toEqual(['hello', 'dropped a frames 1', 'dropped a results 1', 'result a 2', 'error 1', 'result a 3']);
  });

  it('stays bounded for a client that never reads: overflow only after limit + control slack', () => {
    const sink = new ManualSink();
    const queue = new ClientQueue(sink, { limit: 8, controlSlack: 4, maxInFlightBytes: 1, droppedNotice: notice });
    for (let i = 0; i < 10_000; i++) {
      expect(queue.enqueue(i % 2 ? frame('a', i) : result('a', i))).not.toBe('overflow');
    }
    expect(queue.length).toBeLessThanOrEqual(8);
    expect(sink.sent).toHaveLength(1);
    const outcomes = Array.from({ length: 20 }, (_, i) => queue.enqueue(control(`c${i}`)));
    expect(outcomes.filter((o) => o === 'overflow').length).toBeGreaterThan(0);
    expect(queue.length).toBeLessThanOrEqual(8 + 4);
  });

  it('is congested while the socket holds maxInFlightBytes unflushed, and recordDrop reports like an eviction', () => {
    const sink = new ManualSink();
    const queue = new ClientQueue(sink, { limit: 4, maxInFlightBytes: 1500, droppedNotice: notice });
    queue.enqueue(frame('a', 0));
    expect(queue.congested).toBe(false);
    queue.enqueue(frame('a', 1));
    expect(queue.congested).toBe(true);
    queue.recordDrop('frames', 'a');
    expect(queue.droppedCount('a', 'frames')).toBe(1);
    sink.flushAll();
    expect(queue.congested).toBe(false);
    expect(sink.texts()).toContain('dropped a frames 1');
  });

  it('waitForRoom resolves when drained and false when closed', async () => {
    const sink = new ManualSink();
    const queue = new ClientQueue(sink, { limit: 4, maxInFlightBytes: 1, droppedNotice: notice });
    queue.enqueue(result('a', 1));
    queue.enqueue(result('a', 2));
    let resolved: boolean | undefined;
    void queue.waitForRoom().then((open) => (resolved = open));
    await Promise.resolve();
    expect(resolved).toBeUndefined();
    sink.flushAll();
    await Promise.resolve();
    expect(resolved).toBe(true);
    queue.enqueue(result('a', 3));
    const closed = queue.waitForRoom();
    queue.close();
    await expect(closed).resolves.toBe(false);
    expect(queue.enqueue(result('a', 4))).toBe('closed');
  });
});
