/**
 * The whole pipeline on real Redis (DB 22), GStreamer and OpenVINO: a lossless file stream yields exactly one result
 * per frame, in order, then its end-of-stream; `posestream watch --from-start --json` (a child process against the
 * gateway) replays all of them and exits after the end; a bad URL next to it fails alone.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModelPaths } from '../../pipeline/assets.js';
import { FRAME_CONSUMER_GROUP, keys } from '../../pipeline/redis/keys.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import { poseResultSchema, type StreamResult } from '../../pipeline/wire/v1.js';
import { startGateway } from '../../gateway/main.js';
import { startIngest } from '../../workers/ingest/main.js';
import { startWorker } from '../../workers/inference/main.js';
import { assetPath, skipWithout } from '../support/assets.js';
import { testRedisUrl } from '../support/env.js';
import { collectResults, endedWithEos, exited, poseSeqs, quietLogger, spawnCli, writeTestConfig } from './pipeline-support.js';
import { existsSync } from 'node:fs';

const DB = 22;
const FRAMES = 144;

describe.skipIf(skipWithout('walkingVideo') || !existsSync(defaultModelPaths.fp32))('pipeline: lossless file stream', () => {
  const redis = new Redis(testRedisUrl(DB));
  const logger = quietLogger();
  const { config } = writeTestConfig(DB, [
    { id: 'walking', url: assetPath('walkingVideo'), mode: 'lossless' },
    { id: 'broken', url: '/nonexistent/posestream/missing-camera.mp4', mode: 'live' },
  ]);
  const stops: Array<() => Promise<void>> = [];
  let gatewayUrl = '';
  let results: Map<string, StreamResult[]>;

  beforeAll(async () => {
    await redis.flushdb();
    const gateway = await startGateway(config, { logger });
    gatewayUrl = gateway.url;
    stops.push(() => gateway.stop());
    const worker = await startWorker(config, { logger });
    stops.push(() => worker.stop());
    const ingest = await startIngest(config, { logger });
    stops.push(() => ingest.stop());
    results = await collectResults(testRedisUrl(DB), ['walking'], (r) => endedWithEos(r.get('walking')), 90_000);
  }, 120_000);

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
    redis.disconnect();
  });

  it('publishes exactly one result per frame, in order, then the end-of-stream', () => {
    const list = results.get('walking')!;
    expect(poseSeqs(list)).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
    const last = list.at(-1)!;
    expect(last).toMatchObject({ kind: 'eos', reason: 'eof', lastSeq: FRAMES - 1 });
    const poses = list.filter((r) => r.kind === 'pose');
    for (const pose of poses) poseResultSchema.parse(pose);
    const withPerson = poses.filter((r) => r.persons.length > 0).length;
    expect(withPerson / FRAMES).toBeGreaterThanOrEqual(0.9);
    const sample = poses[FRAMES / 2]!;
    expect(sample.sourceWidth).toBe(1280);
    expect(sample.timings.inferMs).toBeGreaterThan(0);
  });

  it('leaves no frame behind: the frame stream is empty and nothing is pending', async () => {
    expect(await redis.xlen(keys.frames('walking'))).toBe(0);
    const [pending] = (await redis.xpending(keys.frames('walking'), FRAME_CONSUMER_GROUP)) as [number];
    expect(pending).toBe(0);
  });

  it('a bad URL fails only its own stream, with the reason', async () => {
    const states = await new StreamRegistry(redis).states();
    const broken = states.get('broken');
    expect(broken?.state).toBe('error');
    expect(broken?.reason ?? '').toMatch(/missing-camera|not found|No such file|Could not open/i);
    expect(states.get('walking')?.state).toBe('ended');
  });

  it('`posestream watch --from-start --json` replays every result and exits 0 after the end-of-stream', async () => {
    const watch = spawnCli(['watch', 'walking', '--from-start', '--json', '--gateway', gatewayUrl]);
    const code = await exited(watch, 30_000);
    const { stdout, stderr } = watch.output();
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(FRAMES);
    expect(lines.map((line) => poseResultSchema.parse(JSON.parse(line)).seq)).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
    expect(stderr).toMatch(/end of stream walking: eof/);
  });

  it('`posestream watch --count N` prints N human lines and exits 0', async () => {
    const watch = spawnCli(['watch', 'walking', '--from-start', '--count', '5', '--gateway', gatewayUrl]);
    expect(await exited(watch, 15_000), watch.output().stderr).toBe(0);
    const lines = watch.output().stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^walking #0 {2}\d+ persons? .*latency \d+ ms = decode \d+ \+ queue \d+ \+ infer \d+ \+ post \d+$/);
  });

  it('`posestream watch` says so when the gateway is unreachable', async () => {
    const watch = spawnCli(['watch', 'walking', '--gateway', 'http://127.0.0.1:1']);
    expect(await exited(watch, 15_000)).toBe(2);
    expect(watch.output().stderr).toMatch(/cannot reach the gateway at ws:\/\/127\.0\.0\.1:1\/ws: ECONNREFUSED/);
  });

  it('`posestream watch` names an unknown stream', async () => {
    const watch = spawnCli(['watch', 'no-such-stream', '--gateway', gatewayUrl]);
    expect(await exited(watch, 15_000)).toBe(2);
    expect(watch.output().stderr).toMatch(/unknown stream "no-such-stream"/);
  });
});
