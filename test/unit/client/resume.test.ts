import { describe, expect, it } from 'vitest';
import { AsyncQueue } from '../../../client/async-queue.js';
import { Backoff } from '../../../client/backoff.js';
import { ResumeTracker } from '../../../client/resume.js';
import { websocketUrl } from '../../../client/socket.js';
import { clientMessageSchema, compareCursors, WIRE_VERSION, type EndOfStream, type PoseEvent, type PoseResult } from '../../../pipeline/wire/v1.js';
import { sampleResult } from '../../support/wire-samples.js';

const result = (streamId: string, seq: number): PoseResult => ({ ...sampleResult, streamId, seq });
const eos = (streamId: string, lastSeq: number): EndOfStream => ({ v: WIRE_VERSION, kind: 'eos', streamId, lastSeq, reason: 'eof', publishedTs: 1 });
const event = (streamId: string, seq: number, type: PoseEvent['type'] = 'line_cross'): PoseEvent => ({
  v: WIRE_VERSION, kind: 'event', id: `${streamId}:${type}:1:${seq}`, streamId, type, trackId: 1, seq, captureTs: seq, atSeq: seq, atCaptureTs: seq,
  confidence: 1, attributes: {}, snapshot: false, publishedTs: seq,
});

describe('cursors', () => {
  it('order numerically, not as strings', () => {
    expect(compareCursors('9-0', '10-0')).toBeLessThan(0);
    expect(compareCursors('10-2', '10-10')).toBeLessThan(0);
    expect(compareCursors('10-2', '10-2')).toBe(0);
    expect(compareCursors('18446744073709551615-1', '18446744073709551615-0')).toBeGreaterThan(0);
  });
});

describe('ResumeTracker', () => {
  it('delivers each result once: a repeat of a cursor or of a seq is dropped', () => {
    const tracker = new ResumeTracker();
    expect(tracker.acceptResult(result('a', 1), '100-0', true)).toBe(true);
    expect(tracker.acceptResult(result('a', 2), '100-1', true)).toBe(true);
    // A replay that starts where live already delivered: the same entry again.
    expect(tracker.acceptResult(result('a', 2), '100-1', true)).toBe(false);
    expect(tracker.acceptResult(result('a', 1), '99-0', true)).toBe(false);
    // The same frame published again under a new entry (a worker hand-over): dropped by seq.
    expect(tracker.acceptResult(result('a', 2), '101-0', true)).toBe(false);
    expect(tracker.acceptResult(result('a', 3), '101-1', true)).toBe(true);
    // Other streams have their own cursors.
    expect(tracker.acceptResult(result('b', 1), '50-0', true)).toBe(true);
    expect(tracker.cursor('results', 'a')).toBe('101-1');
    expect(tracker.cursor('results', 'b')).toBe('50-0');
  });

  it('delivers each event once: by cursor, and by event id across entries', () => {
    const tracker = new ResumeTracker();
    expect(tracker.acceptEvent(event('a', 1), '10-0')).toBe(true);
    expect(tracker.acceptEvent(event('a', 1), '10-0')).toBe(false);
    expect(tracker.acceptEvent(event('a', 1), '11-0')).toBe(false);
    expect(tracker.acceptEvent(event('a', 2), '12-0')).toBe(true);
    expect(tracker.acceptEvent(event('a', 3), '11-5')).toBe(false);
    expect(tracker.cursor('events', 'a')).toBe('12-0');
  });

  it('forgets the oldest event ids beyond its bound', () => {
    const tracker = new ResumeTracker(2);
    for (const seq of [1, 2, 3]) expect(tracker.acceptEvent(event('a', seq), undefined)).toBe(true);
    expect(tracker.acceptEvent(event('a', 3), undefined)).toBe(false);
    expect(tracker.acceptEvent(event('a', 1), undefined)).toBe(true);
  });

  it('delivers an end-of-stream once, on either channel, and lets the stream start its frames over after it', () => {
    const tracker = new ResumeTracker();
    expect(tracker.acceptResult(result('a', 500), '5-0', true)).toBe(true);
    expect(tracker.acceptResult(eos('a', 500), '6-0', false)).toBe(true);
    // An events replay of the finished stream ends with the same end-of-stream again.
    expect(tracker.acceptResult(eos('a', 500), '6-0', false)).toBe(false);
    // Run again from frame 0 after a removal: new frames are not mistaken for repeats.
    expect(tracker.acceptResult(result('a', 0), '7-0', true)).toBe(true);
    // The end-of-stream reached an events-only follower: the results cursor is not the events cursor.
    expect(tracker.cursor('events', 'a')).toBeUndefined();
  });

  it('builds the resume: after the cursors held, fromStart only for what has none, valid on the wire', () => {
    const tracker = new ResumeTracker();
    tracker.acceptEvent(event('a', 1), '10-0');
    tracker.acceptResult(result('b', 1), '20-0', true);
    const message = tracker.subscribeMessage({ streams: ['a', 'c'], channels: ['events', 'results'], fromStart: true }, 's1');
    expect(message).toEqual({ v: 1, type: 'subscribe', id: 's1', streams: ['a', 'c'], channels: ['events', 'results'], fromStart: true, after: { a: { events: '10-0' } } });
    expect(clientMessageSchema.safeParse(message).success).toBe(true);
    expect(tracker.subscribeMessage({ streams: ['*'], channels: ['events'] })).toMatchObject({ after: { a: { events: '10-0' } } });
    expect(tracker.subscribeMessage({ streams: ['*'], channels: ['results'] })).toMatchObject({ after: { b: { results: '20-0' } } });
    expect(tracker.subscribeMessage({ streams: ['c'], channels: ['events', 'frames'], annotated: false })).toEqual({ v: 1, type: 'subscribe', streams: ['c'], channels: ['events', 'frames'], annotated: false });
    // A live view skips what it missed.
    expect(tracker.subscribeMessage({ streams: ['*'], channels: ['results', 'frames'], resume: false })).toEqual({ v: 1, type: 'subscribe', streams: ['*'], channels: ['results', 'frames'] });
  });

  it('takes the live start of a subscription where it has seen nothing, never moving a held cursor', () => {
    const tracker = new ResumeTracker();
    tracker.acceptEvent(event('a', 1), '10-0');
    tracker.noteLiveStart({ a: { events: '5-0', results: '7-0' }, b: { events: '8-0' } });
    expect(tracker.snapshot()).toEqual({ a: { results: '7-0', events: '10-0' }, b: { events: '8-0' } });
    tracker.forget('a');
    expect(tracker.snapshot()).toEqual({ b: { events: '8-0' } });
  });

  it('a consumer sees no gap and no repeat across reconnects whose replays overlap live delivery', () => {
    // The gateway's view: entries 1..60; a connection delivers a window of them (live), the next one replays from
    // the resume cursor and may overlap what was already in flight.
    const entries = Array.from({ length: 60 }, (_, i) => ({ cursor: `${1000 + i}-0`, event: event('a', i) }));
    const tracker = new ResumeTracker();
    const seen: number[] = [];
    const deliver = (from: number, to: number) => {
      for (const entry of entries.slice(from, to)) if (tracker.acceptEvent(entry.event, entry.cursor)) seen.push(entry.event.seq);
    };
    deliver(0, 20);
    // Resume: the gateway replays after the cursor; a live message already in flight arrives again.
    const after = tracker.subscribeMessage({ streams: ['a'], channels: ['events'] });
    expect(after).toMatchObject({ after: { a: { events: '1019-0' } } });
    deliver(18, 40);
    deliver(35, 60);
    expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });
});

describe('Backoff', () => {
  it('doubles up to the maximum, with jitter, and starts over after a reset', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0.5 }, () => 0.5);
    expect([1, 2, 3, 4, 5, 6].map(() => backoff.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    backoff.reset();
    expect(backoff.next()).toBe(100);
    const low = new Backoff({ initialMs: 100, jitter: 0.5 }, () => 0);
    expect(low.next()).toBe(50);
  });
});

describe('AsyncQueue', () => {
  it('hands out pushed items in order, ends, and stops when the consumer breaks', async () => {
    let stopped = 0;
    const queue = new AsyncQueue<number>(10, () => stopped++);
    queue.push(1);
    setTimeout(() => {
      queue.push(2);
      queue.push(3);
    }, 5);
    const got: number[] = [];
    for await (const item of queue) {
      got.push(item);
      if (item === 3) break;
    }
    expect(got).toEqual([1, 2, 3]);
    expect(stopped).toBe(1);
  });

  it('fails a consumer that falls too far behind', async () => {
    const queue = new AsyncQueue<number>(2);
    for (const item of [1, 2, 3]) queue.push(item);
    await expect(queue.next()).rejects.toThrow(/fell 2 messages behind/);
  });
});

describe('websocketUrl', () => {
  it('accepts http and ws addresses, adds /ws, refuses other schemes', () => {
    expect(websocketUrl('http://127.0.0.1:8080')).toBe('ws://127.0.0.1:8080/ws');
    expect(websocketUrl('https://gw.example/')).toBe('wss://gw.example/ws');
    expect(websocketUrl('ws://gw:1/ws')).toBe('ws://gw:1/ws');
    expect(websocketUrl('/ws', 'http://page:3/index.html')).toBe('ws://page:3/ws');
    expect(() => websocketUrl('ftp://gw')).toThrow(/unsupported gateway address scheme "ftp:"/);
  });
});
