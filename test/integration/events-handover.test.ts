/**
 * Events across a worker hand-over, in real workers (Redis DB 63, OpenVINO on the FP32 IR, batch 1 so inference does
 * not depend on how frames were batched): a fall clip (S3_Fall_19) published as frames to two streams. `ref` is run
 * by one worker from start to end. `cam` is run by worker A, whose commit fails once mid-way (so it re-syncs from
 * Redis), and which stops after the first 40 frames; worker B takes the stream over and does the rest. The events
 * of `cam` must be those of `ref`: the same ids, nothing repeated and nothing lost.
 */
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultModelPaths } from '../../pipeline/assets.js';
import { EventStage } from '../../pipeline/events/event-stage.js';
import { fitImage } from '../../pipeline/image/read-image.js';
import { PoseEventReader } from '../../pipeline/redis/event-stream.js';
import { FramePublisher } from '../../pipeline/redis/frame-stream.js';
import { keys } from '../../pipeline/redis/keys.js';
import type { ResultStage, StagedResult, StreamCommit } from '../../pipeline/stages/result-stage.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import { TrackingStage } from '../../pipeline/tracking/tracking-stage.js';
import { WIRE_VERSION, type PoseEvent } from '../../pipeline/wire/v1.js';
import { startWorker } from '../../workers/inference/main.js';
import { readClipFrames } from '../bench/support/clip-frames.js';
import { assetPath, skipWithout } from '../support/assets.js';
import { testRedisUrl } from '../support/env.js';
import { quietLogger, writeTestConfig } from './pipeline-support.js';

const DB = 63;
const CLIP = 'S3_Fall_19.mp4';
const FIRST_PART = 40;

/** Adds a command Redis refuses to the stream's part of the commit once, on its n-th batch: the MULTI is discarded. */
class BreakCommitOnce implements ResultStage {
  readonly name = 'break-once';
  private calls = 0;
  constructor(private readonly onCall: number) {}
  acquire(): void {}
  process(_results: StagedResult[], commit: StreamCommit): void {
    this.calls += 1;
    if (this.calls === this.onCall) commit.add('XADD', keys.results(commit.streamId));
  }
  endOfStream(): void {}
  save(): undefined {
    return undefined;
  }
  release(): void {}
}

describe.skipIf(skipWithout('fallsDev') || !existsSync(defaultModelPaths.fp32))('events across a worker hand-over', () => {
  const redis = new Redis(testRedisUrl(DB));
  const logger = quietLogger();
  const { config } = writeTestConfig(DB, [], { worker: { batchSize: 1 } });
  const noRules = { definition: () => undefined };
  const stages = (extra: ResultStage[] = []): ResultStage[] => [
    new TrackingStage(noRules, logger),
    new EventStage({ rules: noRules, retentionMs: 3_600_000, snapshotQuality: 80, logger }),
    ...extra,
  ];
  afterAll(async () => {
    await redis.flushdb();
    redis.disconnect();
  });

  async function frames(): Promise<Array<{ pixels: Buffer; width: number; height: number; sourceWidth: number; sourceHeight: number; ptsMs: number }>> {
    const out = [];
    for await (const frame of readClipFrames(`${assetPath('fallsDev')}/${CLIP}`)) {
      const fitted = fitImage({ pixels: frame.pixels, width: frame.width, height: frame.height });
      out.push({ pixels: Buffer.from(fitted.pixels), width: fitted.width, height: fitted.height, sourceWidth: fitted.sourceWidth, sourceHeight: fitted.sourceHeight, ptsMs: frame.ptsMs });
    }
    return out;
  }

  async function publish(streamId: string, all: Awaited<ReturnType<typeof frames>>, from: number, to: number): Promise<void> {
    const publisher = new FramePublisher(redis, { streamId, mode: 'lossless', liveQueueLength: 4, losslessQueueLength: 1_000 });
    for (let seq = from; seq < to; seq += 1) {
      const frame = all[seq]!;
      await publisher.publish(
        { v: WIRE_VERSION, streamId, seq, captureTs: 1_700_000_000_000 + frame.ptsMs, ptsMs: frame.ptsMs, publishTs: Date.now(), decodeMs: 1, width: frame.width, height: frame.height, sourceWidth: frame.sourceWidth, sourceHeight: frame.sourceHeight, format: 'rgb24' },
        frame.pixels,
      );
    }
  }

  async function resultsUntil(streamId: string, count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await redis.xlen(keys.results(streamId))) < count) {
      if (Date.now() > deadline) throw new Error(`${streamId}: fewer than ${count} results after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const eventsOf = async (streamId: string): Promise<PoseEvent[]> => (await new PoseEventReader(redis).replay(streamId)).map((entry) => entry.event);
  /** What must match between the two runs: everything but the stream and the publish time. */
  const comparable = (event: PoseEvent) => ({ ...event, id: event.id.replace(/^[^:]+:/, ''), streamId: undefined, publishedTs: undefined });

  it('gives the same events, with the same ids, as an uninterrupted run', async () => {
    await redis.flushdb();
    const registry = new StreamRegistry(redis);
    for (const id of ['ref', 'cam']) await registry.add({ id, url: 'test://ball', enabled: false, mode: 'lossless' });
    const all = await frames();

    await publish('ref', all, 0, all.length);
    const reference = await startWorker(config, { logger, processId: 'reference', stages: stages() });
    await resultsUntil('ref', all.length, 120_000);
    await reference.stop();

    await publish('cam', all, 0, FIRST_PART);
    const a = await startWorker(config, { logger, processId: 'worker-a', stages: stages([new BreakCommitOnce(12)]) });
    await resultsUntil('cam', FIRST_PART, 120_000);
    await a.stop();
    await publish('cam', all, FIRST_PART, all.length);
    const b = await startWorker(config, { logger, processId: 'worker-b', stages: stages() });
    await resultsUntil('cam', all.length, 120_000);
    await b.stop();

    const expected = await eventsOf('ref');
    const handed = await eventsOf('cam');
    expect(expected.filter((event) => event.type === 'fall')).toHaveLength(1);
    expect(new Set(handed.map((event) => event.id)).size).toBe(handed.length);
    expect(handed.map(comparable)).toEqual(expected.map(comparable));
    // The state B started from is the one A committed last: B's first events continue A's (ids by start seq).
    expect(await redis.hexists(keys.stageState('cam'), 'events')).toBe(1);
  }, 300_000);
});
