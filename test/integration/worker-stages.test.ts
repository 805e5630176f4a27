/**
 * Result stages in a real worker (Redis DB 26, OpenVINO on the FP32 IR): a stage's per-stream state is committed
 * with the results, handed to the next owner of the stream, and rolled back to what Redis holds when a commit fails
 * or a stage throws, so every result is numbered exactly once, without gaps, across failures and a hand-over.
 */
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultModelPaths } from '../../pipeline/assets.js';
import { readFittedImage } from '../../pipeline/image/read-image.js';
import { fieldValue, streamEntries } from '../../pipeline/redis/codec.js';
import { FramePublisher } from '../../pipeline/redis/frame-stream.js';
import { FRAME_CONSUMER_GROUP, keys } from '../../pipeline/redis/keys.js';
import type { ResultStage, StagedResult, StreamCommit } from '../../pipeline/stages/result-stage.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import { WIRE_VERSION, type EndOfStream } from '../../pipeline/wire/v1.js';
import { startWorker } from '../../workers/inference/main.js';
import { assetPath, skipWithout } from '../support/assets.js';
import { testRedisUrl } from '../support/env.js';
import { quietLogger, writeTestConfig } from './pipeline-support.js';

const DB = 26;

/** Numbers a stream's results 0, 1, 2, ...; the next number is its state. Can be told to break a commit once. */
class NumberingStage implements ResultStage {
  readonly name = 'numbering';
  readonly acquired: Array<string | undefined> = [];
  readonly released: string[] = [];
  private readonly next = new Map<string, number>();
  private calls = 0;

  constructor(private readonly faults: { abortCommitOnCall?: number; throwOnCall?: number } = {}) {}

  acquire(streamId: string, saved: string | undefined): void {
    this.acquired.push(saved);
    this.next.set(streamId, saved === undefined ? 0 : Number(saved));
  }
  process(results: StagedResult[], commit: StreamCommit): void {
    this.calls += 1;
    for (const { result, frame } of results) {
      expect(frame.meta.seq).toBe(result.seq);
      expect(frame.pixels.length).toBe(frame.meta.width * frame.meta.height * 3);
      const n = this.next.get(result.streamId)!;
      Object.assign(result, { stageNumber: n });
      this.next.set(result.streamId, n + 1);
    }
    // A command of the wrong arity: Redis refuses it when queued, so the whole MULTI is discarded (EXECABORT).
    if (this.calls === this.faults.abortCommitOnCall) commit.add('XADD', keys.results(commit.streamId));
    if (this.calls === this.faults.throwOnCall) throw new Error('stage failure for the test');
  }
  endOfStream(_eos: EndOfStream): void {}
  save(streamId: string): string {
    return String(this.next.get(streamId));
  }
  release(streamId: string): void {
    this.released.push(streamId);
    this.next.delete(streamId);
  }
}

describe.skipIf(skipWithout('busImage') || !existsSync(defaultModelPaths.fp32))('worker: result stages', () => {
  const redis = new Redis(testRedisUrl(DB));
  const logger = quietLogger();
  const { config } = writeTestConfig(DB, []);
  afterAll(() => redis.disconnect());

  async function publishFrames(publisher: FramePublisher, from: number, count: number): Promise<void> {
    const image = await readFittedImage(assetPath('busImage'));
    for (let seq = from; seq < from + count; seq += 1) {
      const now = Date.now();
      await publisher.publish(
        { v: WIRE_VERSION, streamId: 'cam', seq, captureTs: 1_000 + seq, publishTs: now, decodeMs: 1, width: image.width, height: image.height, sourceWidth: image.sourceWidth, sourceHeight: image.sourceHeight, format: 'rgb24' },
        Buffer.from(image.pixels),
      );
    }
  }

  async function resultsUntil(count: number, timeoutMs: number): Promise<Array<{ seq: number; stageNumber: number }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const entries = streamEntries(await redis.xrange(keys.results('cam'), '-', '+'));
      if (entries.length >= count || Date.now() > deadline) {
        return entries.map((entry) => JSON.parse(fieldValue(entry.fields ?? [], 'r')!) as { seq: number; stageNumber: number });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('numbers every result exactly once across a failed commit, a throwing stage and a hand-over', async () => {
    await redis.flushdb();
    await new StreamRegistry(redis).add({ id: 'cam', url: 'test://ball', enabled: false, mode: 'lossless' });
    const publisher = new FramePublisher(redis, { streamId: 'cam', mode: 'lossless', liveQueueLength: 4, losslessQueueLength: 1_000 });
    await publishFrames(publisher, 0, 16);

    const first = new NumberingStage({ abortCommitOnCall: 2, throwOnCall: 4 });
    const a = await startWorker(config, { logger, processId: 'worker-a', stages: [first] });
    const before = await resultsUntil(16, 60_000);
    await a.stop();
    expect(before.map((r) => r.seq)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    // The first acquire, then one re-sync after the refused commit and one after the throw, each from Redis.
    expect(first.acquired.length).toBeGreaterThanOrEqual(3);
    expect(first.acquired[0]).toBeUndefined();
    expect(first.released).toContain('cam');
    expect(await redis.hget(keys.stageState('cam'), 'numbering')).toBe('16');

    const second = new NumberingStage();
    const b = await startWorker(config, { logger, processId: 'worker-b', stages: [second] });
    await publishFrames(publisher, 16, 8);
    const all = await resultsUntil(24, 60_000);
    await b.stop();
    expect(second.acquired[0]).toBe('16');
    expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(all.map((r) => r.stageNumber)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(await redis.xlen(keys.frames('cam'))).toBe(0);
    const [pending] = (await redis.xpending(keys.frames('cam'), FRAME_CONSUMER_GROUP)) as [number];
    expect(pending).toBe(0);
  }, 120_000);
});
