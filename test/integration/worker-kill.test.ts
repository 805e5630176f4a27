/**
 * Two inference workers (child processes running `posestream worker`) share two lossless streams on real Redis
 * (DB 23), GStreamer and OpenVINO. One is killed with SIGKILL mid-run: the other takes over its stream, and every
 * frame of both streams still yields exactly one result, in order. Then SIGTERM drains the survivor: exit 0.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModelPaths } from '../../pipeline/assets.js';
import { keys } from '../../pipeline/redis/keys.js';
import type { StreamResult } from '../../pipeline/wire/v1.js';
import { startIngest } from '../../workers/ingest/main.js';
import { assetPath, skipWithout } from '../support/assets.js';
import { testRedisUrl } from '../support/env.js';
import { collectResults, endedWithEos, exited, poseSeqs, quietLogger, spawnCli, writeTestConfig } from './pipeline-support.js';

const DB = 23;
const FRAMES = 144;
const STREAMS = ['cam-a', 'cam-b'];

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(skipWithout('walkingVideo') || !existsSync(defaultModelPaths.fp32))('workers: kill -9 one of two mid-run', () => {
  const redis = new Redis(testRedisUrl(DB));
  const { file, config } = writeTestConfig(
    DB,
    STREAMS.map((id) => ({ id, url: assetPath('walkingVideo'), mode: 'lossless' as const })),
    { worker: { batchSize: 2, inferRequests: 1 } },
  );
  const workers = [spawnCli(['worker', '-c', file]), spawnCli(['worker', '-c', file])];
  const processIdOf = (pid: number | undefined) => `${hostname()}-${pid}`;
  let stopIngest: (() => Promise<void>) | undefined;
  let results: Map<string, StreamResult[]>;
  let victim: (typeof workers)[number];
  let survivor: (typeof workers)[number];

  beforeAll(async () => {
    await redis.flushdb();
    // Seeded by ingest below; workers discover the streams from the registry once it appears.
    const ingest = await startIngest(config, { logger: quietLogger() });
    stopIngest = () => ingest.stop();
    // Each worker owns one stream once both are up (the first hands one back when the second joins).
    const owners = await until('both workers to own one stream each', 90_000, async () => {
      const ids = await Promise.all(STREAMS.map((id) => redis.get(keys.lease(id))));
      return ids.every(Boolean) && new Set(ids).size === 2 ? ids : undefined;
    });
    victim = workers.find((w) => processIdOf(w.pid) === owners[0])!;
    survivor = workers.find((w) => w !== victim)!;
    expect(victim).toBeDefined();
    let killed = false;
    results = await collectResults(
      testRedisUrl(DB),
      STREAMS,
      (r) => STREAMS.every((id) => endedWithEos(r.get(id))),
      120_000,
      (r) => {
        // Kill the owner of cam-a once a few of its results are out, while its frames are still in flight.
        if (!killed && (r.get(STREAMS[0]!)?.length ?? 0) >= 12) {
          killed = true;
          victim.kill('SIGKILL');
        }
      },
    );
    expect(killed).toBe(true);
  }, 200_000);

  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await stopIngest?.();
    redis.disconnect();
  });

  it('every frame of both streams yields exactly one result, in order, then the end-of-stream', () => {
    for (const id of STREAMS) {
      const list = results.get(id)!;
      expect(poseSeqs(list), id).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
      expect(list.at(-1), id).toMatchObject({ kind: 'eos', lastSeq: FRAMES - 1 });
    }
  });

  it("the survivor took over the killed worker's stream", () => {
    const producers = new Set(results.get(STREAMS[0]!)!.flatMap((r) => (r.kind === 'pose' ? [r.worker] : [])));
    expect(producers).toEqual(new Set([processIdOf(victim.pid), processIdOf(survivor.pid)]));
  });

  it('SIGTERM drains the survivor and it exits 0', async () => {
    survivor.kill('SIGTERM');
    expect(await exited(survivor, 20_000), survivor.output().stderr).toBe(0);
    expect(await redis.zscore(keys.workers, processIdOf(survivor.pid))).toBeNull();
  });
});
