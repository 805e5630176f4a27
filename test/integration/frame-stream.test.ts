import { createServer } from 'node:net';
import pino from 'pino';
import { Writable } from 'node:stream';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRedis, type RedisClient } from '../../pipeline/redis/client.js';
import { FrameConsumer, FramePublisher, IngestFencedError, IngestResyncError, type FrameDelivery } from '../../pipeline/redis/frame-stream.js';
import { FRAME_CONSUMER_GROUP, keys } from '../../pipeline/redis/keys.js';
import type { FrameMeta } from '../../pipeline/wire/v1.js';
import { testRedisUrl } from '../support/env.js';

const DB = 10;
const logger = pino({ level: 'silent' });
const redis = createRedis(testRedisUrl(DB), { name: 'test', logger });
const opened: RedisClient[] = [redis];
function connection(): RedisClient {
  const extra = createRedis(testRedisUrl(DB), { name: 'test', logger });
  opened.push(extra);
  return extra;
}

const WIDTH = 64;
const HEIGHT = 36;
function frame(streamId: string, seq: number): { meta: FrameMeta; pixels: Buffer } {
  const pixels = Buffer.alloc(WIDTH * HEIGHT * 3);
  for (let i = 0; i < pixels.length; i += 1) pixels[i] = (seq * 31 + i) & 0xff;
  const now = Date.now();
  return {
    meta: { v: 1, streamId, seq, captureTs: now, publishTs: now, decodeMs: 0, width: WIDTH, height: HEIGHT, sourceWidth: 128, sourceHeight: 72, format: 'rgb24' },
    pixels,
  };
}

async function ack(consumer: FrameConsumer, deliveries: FrameDelivery[]): Promise<void> {
  const multi = redis.multi();
  for (const delivery of deliveries) consumer.ackInto(multi, delivery);
  await multi.exec();
}

beforeEach(async () => {
  await redis.flushdb();
});
afterAll(async () => {
  await redis.flushdb();
  for (const client of opened) client.disconnect();
});

describe('frame streams on Redis', () => {
  it('delivers frames byte for byte in order, then the end marker; ack removes them', async () => {
    const publisher = new FramePublisher(redis, { streamId: 'a', mode: 'lossless', liveQueueLength: 4, losslessQueueLength: 100 });
    for (let seq = 0; seq < 5; seq += 1) {
      const { meta, pixels } = frame('a', seq);
      await publisher.publish(meta, pixels);
    }
    await publisher.publishEnd({ v: 1, kind: 'eos', streamId: 'a', lastSeq: 4, reason: 'eof' });
    const consumer = new FrameConsumer(connection(), { consumer: 'w1', claimIdleMs: 1_000 });
    const deliveries = await consumer.read(['a'], { count: 10, blockMs: 100 });
    expect(deliveries.map((d) => (d.entry.kind === 'frame' ? d.entry.meta.seq : 'eos'))).toEqual([0, 1, 2, 3, 4, 'eos']);
    for (const delivery of deliveries) {
      if (delivery.entry.kind === 'frame') expect(delivery.entry.pixels.equals(frame('a', delivery.entry.meta.seq).pixels)).toBe(true);
      expect(delivery.deliveries).toBe(1);
    }
    await ack(consumer, deliveries);
    expect(await redis.xlen(keys.frames('a'))).toBe(0);
    expect(await redis.xpending(keys.frames('a'), FRAME_CONSUMER_GROUP)).toEqual([0, null, null, null]);
  });

  it('live: the stream never exceeds liveQueueLength and unread trimmed frames are counted as stale', async () => {
    let stale = 0;
    const publisher = new FramePublisher(redis, { streamId: 'live', mode: 'live', liveQueueLength: 3, losslessQueueLength: 100, onStaleDrop: (n) => (stale += n) });
    const consumer = new FrameConsumer(connection(), { consumer: 'w1', claimIdleMs: 1_000 });
    const seen: number[] = [];
    for (let seq = 0; seq < 20; seq += 1) {
      const { meta, pixels } = frame('live', seq);
      await publisher.publish(meta, pixels);
      expect(await redis.xlen(keys.frames('live'))).toBeLessThanOrEqual(3);
      if (seq % 5 === 4) {
        // A slow consumer: takes one frame every 5 and keeps it in flight until the next read.
        const deliveries = await consumer.read(['live'], { count: 1, blockMs: 10 });
        seen.push(...deliveries.map((d) => (d.entry.kind === 'frame' ? d.entry.meta.seq : -1)));
        await ack(consumer, deliveries);
      }
    }
    // Every frame is either read, still queued, or was trimmed unread and counted.
    expect(seen).toEqual([2, 7, 12, 17]);
    const queued = await redis.xlen(keys.frames('live'));
    expect(queued).toBe(2);
    expect(stale).toBe(20 - seen.length - queued);
  });

  it('live read: one read takes the newest of 4 queued frames; the 3 older are acked, deleted and counted', async () => {
    const publisher = new FramePublisher(redis, { streamId: 'cam', mode: 'live', liveQueueLength: 4, losslessQueueLength: 100 });
    const ordered = new FramePublisher(redis, { streamId: 'file', mode: 'lossless', liveQueueLength: 4, losslessQueueLength: 100 });
    for (let seq = 0; seq < 4; seq += 1) {
      await publisher.publish(frame('cam', seq).meta, frame('cam', seq).pixels);
      await ordered.publish(frame('file', seq).meta, frame('file', seq).pixels);
    }
    const consumer = new FrameConsumer(connection(), { consumer: 'w1', claimIdleMs: 1_000 });
    const superseded: Array<[string, number]> = [];
    consumer.onSuperseded = (streamId, count) => superseded.push([streamId, count]);
    const isLive = (id: string) => id === 'cam';
    const deliveries = await consumer.read(['cam', 'file'], { count: 10, blockMs: 100, isLive });
    const seqs = (id: string) => deliveries.filter((d) => d.streamId === id).map((d) => (d.entry.kind === 'frame' ? d.entry.meta.seq : 'eos'));
    expect(seqs('cam')).toEqual([3]);
    expect(seqs('file')).toEqual([0, 1, 2, 3]);
    const newest = deliveries.find((d) => d.streamId === 'cam')!;
    expect(newest.entry.kind === 'frame' && newest.entry.pixels.equals(frame('cam', 3).pixels)).toBe(true);
    expect(superseded).toEqual([['cam', 3]]);
    // The dropped frames are gone (not pending for anyone); only the kept one is pending for this consumer.
    expect(await redis.xlen(keys.frames('cam'))).toBe(1);
    expect(await redis.xpending(keys.frames('cam'), FRAME_CONSUMER_GROUP)).toEqual([1, newest.entryId, newest.entryId, [['w1', '1']]]);
    // An end-of-stream marker is never dropped: it comes with the newest frame, in stream order.
    await publisher.publish(frame('cam', 4).meta, frame('cam', 4).pixels);
    await publisher.publishEnd({ v: 1, kind: 'eos', streamId: 'cam', lastSeq: 4, reason: 'eof' });
    await publisher.publish(frame('cam', 5).meta, frame('cam', 5).pixels);
    const after = await consumer.read(['cam'], { count: 10, blockMs: 100, isLive });
    expect(after.map((d) => (d.entry.kind === 'frame' ? d.entry.meta.seq : 'eos'))).toEqual(['eos', 5]);
    expect(superseded).toEqual([['cam', 3], ['cam', 1]]);
    // Nothing unread: the read waits (blocking) and returns what arrives, on live and in-order streams alike.
    const waiting = consumer.read(['cam', 'file'], { count: 10, blockMs: 2_000, isLive });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await publisher.publish(frame('cam', 6).meta, frame('cam', 6).pixels);
    expect((await waiting).map((d) => `${d.streamId}:${d.entry.kind === 'frame' ? d.entry.meta.seq : 'eos'}`)).toEqual(['cam:6']);
  });

  it('live read with room for fewer frames than streams: the streams take turns, the rest stay in Redis', async () => {
    const ids = ['c0', 'c1', 'c2'];
    const publishers = ids.map((streamId) => new FramePublisher(redis, { streamId, mode: 'live', liveQueueLength: 4, losslessQueueLength: 100 }));
    const consumer = new FrameConsumer(connection(), { consumer: 'w1', claimIdleMs: 1_000 });
    const read = async () => (await consumer.read(ids, { count: 4, blockMs: 100, isLive: () => true, liveRoom: 2 })).map((d) => d.streamId);
    for (const [i, publisher] of publishers.entries()) await publisher.publish(frame(ids[i]!, 0).meta, frame(ids[i]!, 0).pixels);
    expect(await read()).toEqual(['c0', 'c1']);
    expect(await redis.xlen(keys.frames('c2'))).toBe(1);
    for (const [i, publisher] of publishers.entries()) await publisher.publish(frame(ids[i]!, 1).meta, frame(ids[i]!, 1).pixels);
    expect(await read()).toEqual(['c2', 'c0']);
    expect(await read()).toEqual(['c1']);
    // The turn's streams (c0, c1) have nothing new: the others are read rather than waiting.
    await publishers[2]!.publish(frame('c2', 2).meta, frame('c2', 2).pixels);
    expect(await read()).toEqual(['c2']);
  });

  it('lossless: waitForRoom holds the publisher while the stream is full and releases it on ack', async () => {
    const publisher = new FramePublisher(redis, { streamId: 'll', mode: 'lossless', liveQueueLength: 3, losslessQueueLength: 2 });
    for (let seq = 0; seq < 2; seq += 1) {
      await publisher.waitForRoom();
      const { meta, pixels } = frame('ll', seq);
      await publisher.publish(meta, pixels);
    }
    let released = false;
    const waiting = publisher.waitForRoom().then(() => (released = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(released).toBe(false);
    const consumer = new FrameConsumer(connection(), { consumer: 'w1', claimIdleMs: 1_000 });
    await ack(consumer, await consumer.read(['ll'], { count: 1, blockMs: 10 }));
    await waiting;
    expect(released).toBe(true);

    const abort = new AbortController();
    await publisher.publish(frame('ll', 2).meta, frame('ll', 2).pixels);
    const aborted = publisher.waitForRoom(abort.signal);
    abort.abort(new Error('stream removed'));
    await expect(aborted).rejects.toThrow('stream removed');
  });

  it('lossless: no XLEN while the last publish left room; a full stream waits until a quarter has drained', async () => {
    const publisher = new FramePublisher(redis, { streamId: 'lq', mode: 'lossless', liveQueueLength: 3, losslessQueueLength: 8 });
    const xlen = vi.spyOn(redis, 'xlen');
    for (let seq = 0; seq < 8; seq += 1) {
      await publisher.waitForRoom();
      await publisher.publish(frame('lq', seq).meta, frame('lq', seq).pixels);
    }
    // One XLEN before the first frame (nothing known yet); each publish's reply says the depth from then on.
    expect(xlen).toHaveBeenCalledTimes(1);
    let released = false;
    const waiting = publisher.waitForRoom().then(() => (released = true));
    const consumer = new FrameConsumer(connection(), { consumer: 'w1', claimIdleMs: 1_000 });
    await ack(consumer, await consumer.read(['lq'], { count: 1, blockMs: 10 }));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(released).toBe(false); // 7 of 8: room for one frame, but a quarter (2) has not drained yet
    await ack(consumer, await consumer.read(['lq'], { count: 1, blockMs: 10 }));
    await waiting;
    expect(released).toBe(true);
    xlen.mockRestore();
  });

  it('frames taken by a consumer that died are claimed by another one, none lost', async () => {
    const publisher = new FramePublisher(redis, { streamId: 'c', mode: 'lossless', liveQueueLength: 3, losslessQueueLength: 100 });
    for (let seq = 0; seq < 6; seq += 1) await publisher.publish(frame('c', seq).meta, frame('c', seq).pixels);
    const dead = new FrameConsumer(connection(), { consumer: 'dead', claimIdleMs: 200 });
    const taken = await dead.read(['c'], { count: 4, blockMs: 10 });
    expect(taken).toHaveLength(4);
    // 'dead' never acks. The survivor reads what is new, then claims the rest once it is idle long enough.
    const survivor = new FrameConsumer(connection(), { consumer: 'alive', claimIdleMs: 200 });
    const fresh = await survivor.read(['c'], { count: 10, blockMs: 10 });
    expect(fresh.map((d) => (d.entry.kind === 'frame' ? d.entry.meta.seq : -1))).toEqual([4, 5]);
    expect(await survivor.claimStale(['c'], 10)).toEqual([]);
    await ack(survivor, fresh);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const claimed = await survivor.claimStale(['c'], 10);
    expect(claimed.map((d) => (d.entry.kind === 'frame' ? d.entry.meta.seq : -1))).toEqual([0, 1, 2, 3]);
    expect(claimed.every((d) => d.deliveries === 2)).toBe(true);
    expect(claimed.every((d) => d.entry.kind === 'frame' && d.entry.pixels.equals(frame('c', d.entry.meta.seq).pixels))).toBe(true);
    await ack(survivor, claimed);
    expect(await redis.xlen(keys.frames('c'))).toBe(0);
    expect((await redis.xpending(keys.frames('c'), FRAME_CONSUMER_GROUP))[0]).toBe(0);
  });

  it('undecodable entries are acked, deleted and reported, never retried or fatal', async () => {
    const publisher = new FramePublisher(redis, { streamId: 'bad', mode: 'lossless', liveQueueLength: 3, losslessQueueLength: 100 });
    await publisher.publish(frame('bad', 0).meta, frame('bad', 0).pixels);
    await redis.xadd(keys.frames('bad'), '*', 'm', '{"not":"a frame"}');
    await redis.xadd(keys.frames('bad'), '*', 'm', JSON.stringify({ ...frame('bad', 2).meta, kind: 'frame' }), 'px', Buffer.alloc(5));
    await publisher.publish(frame('bad', 1).meta, frame('bad', 1).pixels);
    const consumer = new FrameConsumer(connection(), { consumer: 'w1', claimIdleMs: 1_000 });
    const bad: string[] = [];
    consumer.onBadEntry = (streamId, _entryId, error) => bad.push(`${streamId}: ${error.message}`);
    const deliveries = await consumer.read(['bad'], { count: 10, blockMs: 10 });
    expect(deliveries.map((d) => (d.entry.kind === 'frame' ? d.entry.meta.seq : -1))).toEqual([0, 1]);
    expect(bad).toHaveLength(2);
    expect(bad[1]).toContain('5 pixel bytes, expected 6912');
    await ack(consumer, deliveries);
    expect(await redis.xlen(keys.frames('bad'))).toBe(0);
  });

  it('a removed and re-created frames key gets its group back', async () => {
    const consumer = new FrameConsumer(connection(), { consumer: 'w1', claimIdleMs: 1_000 });
    expect(await consumer.read(['gone'], { count: 1, blockMs: 10 })).toEqual([]);
    await redis.del(keys.frames('gone'));
    expect(await consumer.read(['gone'], { count: 1, blockMs: 10 })).toEqual([]);
    const publisher = new FramePublisher(redis, { streamId: 'gone', mode: 'lossless', liveQueueLength: 3, losslessQueueLength: 10 });
    await publisher.publish(frame('gone', 0).meta, frame('gone', 0).pixels);
    expect(await consumer.read(['gone'], { count: 1, blockMs: 10 })).toHaveLength(1);
  });
});

describe('createRedis', () => {
  it('logs one warning per outage, not one per retry, and keeps retrying', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const lines: Array<{ level: number; msg: string }> = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const client = createRedis(`redis://:secret@127.0.0.1:${port}/0`, { name: 'probe', logger: pino({ level: 'info' }, sink) });
    const reconnects: number[] = [];
    client.on('reconnecting', (delay: number) => reconnects.push(delay));
    await new Promise((resolve) => setTimeout(resolve, 1_800));
    client.disconnect();
    expect(reconnects.length).toBeGreaterThanOrEqual(3);
    const warnings = lines.filter((line) => line.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toBe(`redis at redis://:***@127.0.0.1:${port}/0 unreachable: ECONNREFUSED; retrying`);
    expect(JSON.stringify(lines)).not.toContain('secret');
  });

  it('the ingest record: resume points, fencing of an older owner, repeated seqs written once, a lossless gap refused', async () => {
    const options = { streamId: 'rec', mode: 'lossless' as const, liveQueueLength: 4, losslessQueueLength: 100, source: 'clip-a' };
    const first = new FramePublisher(redis, { ...options, owner: 'ingest-1' });
    expect(await first.resume()).toEqual({ seq: 0 });
    for (let seq = 0; seq < 3; seq += 1) await first.publish(frame('rec', seq).meta, frame('rec', seq).pixels, undefined, seq * 10);
    expect(await redis.hmget(keys.ingestRecord('rec'), 'seq', 'pts', 'token', 'owner', 'source')).toEqual(['3', '20', '1', 'ingest-1', 'clip-a']);
    // A retry of a publish whose reply was lost: recognised by its seq, not written again.
    expect(await first.publish(frame('rec', 2).meta, frame('rec', 2).pixels, undefined, 20)).toBe('');
    expect(await redis.xlen(keys.frames('rec'))).toBe(3);

    const second = new FramePublisher(redis, { ...options, owner: 'ingest-2' });
    expect(await second.resume()).toEqual({ seq: 3, afterPtsNs: 20 });
    await expect(first.publish(frame('rec', 3).meta, frame('rec', 3).pixels, undefined, 30)).rejects.toBeInstanceOf(IngestFencedError);
    await expect(first.resume()).rejects.toMatchObject({ code: 'PS_INGEST_FENCED' });
    await second.publish(frame('rec', 3).meta, frame('rec', 3).pixels, undefined, 30);
    await expect(second.publish(frame('rec', 5).meta, frame('rec', 5).pixels, undefined, 50)).rejects.toBeInstanceOf(IngestResyncError);
    expect(await second.resume()).toEqual({ seq: 4, afterPtsNs: 30 });
    expect(await redis.xlen(keys.frames('rec'))).toBe(4);
    // One end marker per (last seq, reason): a file restarted after its end was published does not end twice.
    const end = { v: 1 as const, kind: 'eos' as const, streamId: 'rec', lastSeq: 3, reason: 'eof' as const };
    expect(await second.publishEnd(end)).not.toBe('');
    expect(await second.publishEnd(end)).toBe('');
    await expect(first.publishEnd(end)).rejects.toBeInstanceOf(IngestFencedError);
    expect(await redis.xlen(keys.frames('rec'))).toBe(5);

    // Other source settings: the seqs go on, the position does not apply (the new source starts at its beginning).
    const third = new FramePublisher(redis, { ...options, source: 'clip-b' });
    expect(await third.resume()).toEqual({ seq: 4 });
    // A stream without a record starts where the caller says (after what Redis still shows of an older run).
    const fresh = new FramePublisher(redis, { ...options, streamId: 'rec-new', initialSeq: async () => 17 });
    expect(await fresh.resume()).toEqual({ seq: 17 });
  });
});
