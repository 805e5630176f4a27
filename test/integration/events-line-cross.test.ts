/**
 * Events end to end on real Redis (DB 61), the decoder, OpenVINO, the tracker and the event engine: the shared
 * walking video as a lossless file stream with a line placed across the main walker's path (he walks towards the
 * camera and to the left, crossing x = 0.575 of the frame about 2.5 s in, feet around y = 0.71); nobody else comes
 * near that segment. `posestream watch --events --from-start --json` (a child process against the gateway) must
 * print exactly one crossing, left to right (looking from a at the top towards b at the bottom, the walker goes
 * from the left-hand side, +x, to the right-hand side), counted once, then exit after the end-of-stream.
 */
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/main.js';
import { defaultModelPaths } from '../../pipeline/assets.js';
import { PoseEventReader } from '../../pipeline/redis/event-stream.js';
import { poseEventSchema, type PoseEvent } from '../../pipeline/wire/v1.js';
import { startIngest } from '../../workers/ingest/main.js';
import { startWorker } from '../../workers/inference/main.js';
import { assetPath, skipWithout } from '../support/assets.js';
import { testRedisUrl } from '../support/env.js';
import { collectResults, endedWithEos, exited, quietLogger, spawnCli, writeTestConfig } from './pipeline-support.js';

const DB = 61;
const LINE = { id: 'crossing', a: [0.575, 0.55] as [number, number], b: [0.575, 0.95] as [number, number] };

describe.skipIf(skipWithout('walkingVideo') || !existsSync(defaultModelPaths.fp32))('events: a line across the walker in the walking video', () => {
  const redis = new Redis(testRedisUrl(DB));
  const logger = quietLogger();
  const { config } = writeTestConfig(DB, [{ id: 'walking', url: assetPath('walkingVideo'), mode: 'lossless', events: { lines: [LINE] } }]);
  const stops: Array<() => Promise<void>> = [];
  let gatewayUrl = '';

  beforeAll(async () => {
    await redis.flushdb();
    const gateway = await startGateway(config, { logger });
    gatewayUrl = gateway.url;
    stops.push(() => gateway.stop());
    const worker = await startWorker(config, { logger });
    stops.push(() => worker.stop());
    const ingest = await startIngest(config, { logger });
    stops.push(() => ingest.stop());
    await collectResults(testRedisUrl(DB), ['walking'], (r) => endedWithEos(r.get('walking')), 90_000);
  }, 120_000);

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
    await redis.flushdb();
    redis.disconnect();
  });

  it('the event stream holds exactly one crossing of the line, left to right, counted once', async () => {
    const events = (await new PoseEventReader(redis).replay('walking')).map((entry) => entry.event);
    const crossings = events.filter((event) => event.type === 'line_cross');
    expect(crossings).toHaveLength(1);
    expect(crossings[0]).toMatchObject({ line: 'crossing', direction: 'left_to_right', attributes: { count: 1, leftToRight: 1, rightToLeft: 0 } });
    // Media time of the crossing: the walker's feet pass x = 0.575 between 2.4 and 2.8 s.
    expect(crossings[0]!.atPtsMs!).toBeGreaterThan(2_000);
    expect(crossings[0]!.atPtsMs!).toBeLessThan(3_300);
    // Nobody falls while walking down a street.
    expect(events.filter((event) => event.type === 'fall')).toEqual([]);
  });

  it('`posestream watch --events --from-start --json` prints the events and exits 0 after the end-of-stream', async () => {
    const watch = spawnCli(['watch', 'walking', '--events', '--from-start', '--json', '--gateway', gatewayUrl]);
    expect(await exited(watch, 30_000)).toBe(0);
    const lines = watch.output().stdout.trim().split('\n').filter(Boolean);
    const printed: PoseEvent[] = lines.map((line) => poseEventSchema.parse(JSON.parse(line)));
    expect(printed.filter((event) => event.type === 'line_cross').map((event) => event.direction)).toEqual(['left_to_right']);
    expect(new Set(printed.map((event) => event.id)).size).toBe(printed.length);
    expect(watch.output().stderr).toMatch(/end of stream walking: eof/);
  });
});
