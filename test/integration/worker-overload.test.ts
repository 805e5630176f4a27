/**
 * A worker past capacity (Redis DB 28, OpenVINO on the FP32 IR): one live camera floods the worker with frames far
 * faster than it can infer, a second one sends 5 fps. The quiet camera is still served (round-robin across streams,
 * the flood's older frames superseded by its newest, never queued in front of the others), the flood's superseded
 * frames are counted by reason, and the worker says it is over capacity.
 */
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultModelPaths } from '../../pipeline/assets.js';
import { readFittedImage } from '../../pipeline/image/read-image.js';
import { createMetrics } from '../../pipeline/obs/metrics.js';
import { fieldValue, streamEntries } from '../../pipeline/redis/codec.js';
import { FramePublisher } from '../../pipeline/redis/frame-stream.js';
import { keys } from '../../pipeline/redis/keys.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import { WIRE_VERSION, type PoseResult } from '../../pipeline/wire/v1.js';
import { startWorker } from '../../workers/inference/main.js';
import { assetPath, skipWithout } from '../support/assets.js';
import { testRedisUrl } from '../support/env.js';
import { quietLogger, writeTestConfig } from './pipeline-support.js';

const DB = 28;
const FLOOD_SECONDS = 7;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(skipWithout('busImage') || !existsSync(defaultModelPaths.fp32))('worker: one live stream floods, another is still served', () => {
  const redis = new Redis(testRedisUrl(DB));
  const { config } = writeTestConfig(DB, [], { worker: { batchSize: 2, maxBatchWaitMs: 0 } });
  afterAll(() => redis.disconnect());

  it('serves the 5 fps camera at its rate, drops the flood\'s older frames as superseded, reports over capacity', async () => {
    await redis.flushdb();
    const registry = new StreamRegistry(redis);
    for (const id of ['flood', 'calm']) await registry.add({ id, url: 'test://ball', enabled: false, mode: 'live' });
    const image = await readFittedImage(assetPath('busImage'));
    const publisher = (streamId: string) => {
      const frames = new FramePublisher(redis, { streamId, mode: 'live', liveQueueLength: 4, losslessQueueLength: 32 });
      let seq = 0;
      return () => {
        const now = Date.now();
        const meta = { v: WIRE_VERSION, streamId, seq: seq++, captureTs: now, publishTs: now, decodeMs: 1, width: image.width, height: image.height, sourceWidth: image.sourceWidth, sourceHeight: image.sourceHeight, format: 'rgb24' as const };
        return frames.publish(meta, Buffer.from(image.pixels));
      };
    };
    const metrics = createMetrics();
    const worker = await startWorker(config, { logger: quietLogger(), processId: 'worker-overload', metrics });
    try {
      const flood = publisher('flood');
      const calm = publisher('calm');
      const end = Date.now() + FLOOD_SECONDS * 1000;
      let calmSent = 0;
      const floodLoop = (async () => {
        while (Date.now() < end) {
          await flood();
          await sleep(2); // ~300+ fps offered, many times what the worker infers
        }
      })();
      const calmLoop = (async () => {
        while (Date.now() < end) {
          await calm();
          calmSent += 1;
          await sleep(200);
        }
      })();
      await Promise.all([floodLoop, calmLoop]);
      await sleep(1_500);
      const overCapacity = (await metrics.registry.getSingleMetric('posestream_worker_over_capacity')!.get()).values[0]?.value;
      const results = async (id: string) =>
        streamEntries(await redis.xrange(keys.results(id), '-', '+')).map((entry) => JSON.parse(fieldValue(entry.fields ?? [], 'r')!) as PoseResult);
      const calmResults = await results('calm');
      const floodResults = await results('flood');
      const dropped = (await metrics.framesDropped.get()).values;
      const superseded = dropped.filter((v) => v.labels.reason === 'superseded' && v.labels.stream_id === 'flood').reduce((n, v) => n + v.value, 0);
      const floodSeqs = floodResults.map((r) => r.seq);

      // The quiet camera: its fair share (half of what the worker served, or all it sent if less), although the
      // flood offered far more. How much the worker serves depends on the machine's load.
      const served = calmResults.length + floodResults.length;
      expect(calmResults.length).toBeGreaterThanOrEqual(Math.floor(Math.min(calmSent, served / 2) * 0.8));
      expect(calmResults.map((r) => r.seq)).toEqual([...calmResults.map((r) => r.seq)].sort((a, b) => a - b));
      // The flood: served too (its fair share), in order, with gaps where newer frames superseded older ones.
      expect(floodResults.length).toBeGreaterThan(0);
      expect(floodSeqs).toEqual([...floodSeqs].sort((a, b) => a - b));
      expect(floodSeqs[floodSeqs.length - 1]! + 1).toBeGreaterThan(floodResults.length * 2);
      expect(superseded).toBeGreaterThan(0);
      expect(overCapacity).toBe(1);
    } finally {
      await worker.stop();
    }
  }, 60_000);
});
