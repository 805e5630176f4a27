import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import { createRedis } from '../../pipeline/redis/client.js';
import { FrameConsumer } from '../../pipeline/redis/frame-stream.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import type { StreamState } from '../../pipeline/wire/v1.js';
import { startIngest } from '../../workers/ingest/main.js';
import { skipWithout } from '../support/assets.js';
import { testRedisUrl } from '../support/env.js';
import { startRtspServer, type TestRtspServer } from '../support/rtsp-server.js';

const DB = 13;
const logger = pino({ level: process.env.POSESTREAM_TEST_LOG ?? 'silent' });
const redis = createRedis(testRedisUrl(DB), { name: 'test', logger });
const reader = createRedis(testRedisUrl(DB), { name: 'test-reader', logger });
const registry = new StreamRegistry(redis);
let server: TestRtspServer | undefined;

beforeAll(async () => {
  await redis.flushdb();
});
afterAll(async () => {
  await server?.stop();
  await registry.close();
  await redis.flushdb();
  redis.disconnect();
  reader.disconnect();
});

describe.skipIf(skipWithout('walkingVideo'))('ingest of RTSP', () => {
  it('a camera that goes away for 10 s comes back by itself; the other stream never stops', { timeout: 90_000 }, async () => {
    server = await startRtspServer();
    const config = configSchema.parse({
      redis: { url: testRedisUrl(DB) },
      model: { path: 'unused.xml' },
      ingest: { stallTimeoutSec: 3, backoffInitialMs: 250, backoffMaxMs: 2_000 },
      streams: [
        { id: 'cam', url: server.url },
        { id: 'ball', url: 'test://ball' },
      ],
    });
    const ingest = await startIngest(config, { logger, processId: 'ingest-rtsp' });
    const states: StreamState[] = [];
    const unwatch = registry.watch((event) => {
      if (event.kind === 'state' && event.streamId === 'cam') states.push(event);
    });
    const consumer = new FrameConsumer(reader, { consumer: 'test', claimIdleMs: 60_000 });
    const arrivals: Record<string, number[]> = { cam: [], ball: [] };
    let consuming = true;
    const consuming$ = (async () => {
      while (consuming) {
        const batch = await consumer.read(['cam', 'ball'], { count: 8, blockMs: 200 });
        const now = Date.now();
        const multi = redis.multi();
        for (const delivery of batch) {
          if (delivery.entry.kind === 'frame') arrivals[delivery.streamId]!.push(now);
          consumer.ackInto(multi, delivery);
        }
        await multi.exec();
      }
    })();
    const camFramesAfter = (t: number) => arrivals.cam!.filter((at) => at > t).length;
    try {
      await expect.poll(() => camFramesAfter(0), { timeout: 15_000, interval: 100 }).toBeGreaterThan(30);
      const first = (await registry.states()).get('cam');
      expect(first).toMatchObject({ state: 'running', sourceWidth: 1280, sourceHeight: 720, owner: 'ingest-rtsp' });

      const stoppedAt = Date.now();
      await server.stop();
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      await server.start();
      const restartedAt = Date.now();
      await expect.poll(() => camFramesAfter(restartedAt), { timeout: 15_000, interval: 100 }).toBeGreaterThan(10);
      const resumedAfterMs = arrivals.cam!.find((at) => at > restartedAt)! - restartedAt;
      expect(resumedAfterMs).toBeLessThan(15_000);

      const sequence = states.filter((state) => state.since >= stoppedAt).map((state) => state.state);
      expect(sequence[0]).toBe('reconnecting');
      expect(sequence.at(-1)).toBe('running');
      expect(new Set(sequence)).toEqual(new Set(['reconnecting', 'running']));
      const final = (await registry.states()).get('cam')!;
      expect(final.restarts).toBeGreaterThanOrEqual(1);

      // The test pattern kept flowing the whole time: no gap longer than 2.5 s (generous for a loaded 2-core CI box).
      const ball = arrivals.ball!.filter((at) => at >= stoppedAt - 1_000);
      const gaps = ball.slice(1).map((at, i) => at - ball[i]!);
      expect(ball.length).toBeGreaterThan(100);
      expect(Math.max(...gaps)).toBeLessThan(2_500);
      console.info(`rtsp: frames resumed ${resumedAfterMs} ms after the server came back; states ${sequence.join(' -> ')}; restarts ${final.restarts}`);
    } finally {
      consuming = false;
      await consuming$;
      unwatch();
      await ingest.stop();
    }
  });
});
