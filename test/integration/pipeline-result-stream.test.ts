/** ResultPublisher / ResultReader / ViewerCheck against the real test Redis (DB 20). */
import { Redis } from 'ioredis';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { decodePreviewFields, streamEntries } from '../../pipeline/redis/codec.js';
import { keys } from '../../pipeline/redis/keys.js';
import { ResultPublisher, ResultReader, ViewerCheck } from '../../pipeline/redis/result-stream.js';
import { WIRE_VERSION, type FrameMeta, type PoseResult } from '../../pipeline/wire/v1.js';
import { testRedisUrl } from '../support/env.js';

const redis = new Redis(testRedisUrl(20));
const blocking = new Redis(testRedisUrl(20));
afterAll(() => {
  redis.disconnect();
  blocking.disconnect();
});
beforeEach(async () => {
  await redis.flushdb();
});

const pose = (streamId: string, seq: number): PoseResult => ({
  v: WIRE_VERSION, kind: 'pose', streamId, seq, captureTs: 1_000 + seq, sourceWidth: 4, sourceHeight: 2, persons: [],
  timings: { decodeMs: 1, queueMs: 1, inferMs: 1, postMs: 1 }, worker: 'w', publishedTs: 2_000 + seq,
});

async function publish(publisher: ResultPublisher, results: PoseResult[], preview?: { meta: FrameMeta; pixels: Buffer }) {
  const multi = redis.multi();
  for (const result of results) publisher.addInto(multi, result, preview);
  await multi.exec();
}

describe('result streams on Redis', () => {
  it('replays retained results in pages, oldest first, and follows new ones without gaps', async () => {
    const publisher = new ResultPublisher({ retention: 10_000 });
    await publish(publisher, Array.from({ length: 25 }, (_, i) => pose('a', i)));
    const reader = new ResultReader(redis);
    const seen: number[] = [];
    let afterId: string | undefined;
    for (;;) {
      const page = await reader.replay('a', { ...(afterId ? { afterId } : {}), count: 10 });
      seen.push(...page.map((e) => (e.result.kind === 'pose' ? e.result.seq : -1)));
      if (page.length < 10) break;
      afterId = page[page.length - 1]!.entryId;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i));

    const tail = await reader.tailId('a');
    expect(await reader.tailId('nothing-here')).toBe('0-0');
    const follower = new ResultReader(blocking);
    const cursors = new Map([['a', tail], ['b', '0-0']]);
    const pending = follower.follow(cursors, 2_000);
    await publish(publisher, [pose('a', 25), pose('b', 0)]);
    const byStream: Record<string, number[]> = {};
    // One blocking read may wake on the first stream written; follow again until both arrived.
    for (let batches = await pending; ; batches = await follower.follow(cursors, 200)) {
      for (const b of batches) {
        (byStream[b.streamId] ??= []).push(...b.entries.map((e) => (e.result as PoseResult).seq));
        cursors.set(b.streamId, b.lastId);
      }
      if (batches.length === 0) break;
    }
    expect(byStream).toEqual({ a: [25], b: [0] });
  });

  it('skips a corrupt entry, reports it, and moves the cursor past it', async () => {
    await redis.xadd(keys.results('c'), '*', 'r', '{not json');
    await publish(new ResultPublisher({ retention: 100 }), [pose('c', 0)]);
    const reader = new ResultReader(blocking);
    const bad: string[] = [];
    reader.onBadEntry = (streamId, entryId) => bad.push(`${streamId}/${entryId}`);
    const [batch] = await reader.follow(new Map([['c', '0-0']]), 100);
    expect(batch!.entries.map((e) => e.result.kind)).toEqual(['pose']);
    expect(bad).toHaveLength(1);
    expect(batch!.lastId).toBe(batch!.entries[0]!.entryId);
  });

  it('bounds results approximately and previews exactly', async () => {
    const publisher = new ResultPublisher({ retention: 10 });
    const meta: FrameMeta = { v: WIRE_VERSION, streamId: 'p', seq: 0, captureTs: 1, publishTs: 1, decodeMs: 1, width: 4, height: 2, sourceWidth: 4, sourceHeight: 2, format: 'rgb24' };
    for (let i = 0; i < 300; i += 1) {
      await publish(publisher, [pose('p', i)], { meta: { ...meta, seq: i }, pixels: Buffer.alloc(24, i % 256) });
    }
    expect(await redis.xlen(keys.preview('p'))).toBe(4);
    expect(await redis.xlen(keys.results('p'))).toBeLessThanOrEqual(110);
    const [newest] = streamEntries<Buffer>(await redis.xrevrangeBuffer(keys.preview('p'), '+', '-', 'COUNT', 1));
    const decoded = decodePreviewFields(newest!.fields!);
    expect(decoded.result.seq).toBe(299);
    expect(decoded.pixels[0]).toBe(299 % 256);
  });

  it('ViewerCheck sees the viewers key and caches briefly', async () => {
    const check = new ViewerCheck(redis, 1_000);
    expect(await check.watched(['x', 'y'], 0)).toEqual(new Set());
    await redis.set(keys.viewers('x'), '1', 'EX', 10);
    expect(await check.watched(['x'], 500)).toEqual(new Set());
    expect(await check.watched(['x', 'y'], 1_600)).toEqual(new Set(['x']));
  });
});
