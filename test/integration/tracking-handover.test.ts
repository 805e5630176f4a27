/**
 * Track ids survive a worker's death. Two `posestream worker` processes (real Redis DB 54, GStreamer decoder,
 * OpenVINO) serve one lossless stream of the TUD-Stadtmitte clip (10 people crossing and hiding each other) with
 * tracking on. The owner is killed with SIGKILL mid-stream; the other takes the stream over from the committed
 * tracker state. The same people keep their ids across the hand-over, no id is given twice, and every published id
 * is exactly what one tracker running over the whole stream without a hand-over gives.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModelPaths } from '../../pipeline/assets.js';
import { keys } from '../../pipeline/redis/keys.js';
import { iou } from '../../pipeline/tracking/box.js';
import { trackerConfig } from '../../pipeline/tracking/config.js';
import { PoseTracker } from '../../pipeline/tracking/tracker.js';
import type { PoseResult, StreamResult } from '../../pipeline/wire/v1.js';
import { startIngest } from '../../workers/ingest/main.js';
import { assetPath, skipWithout } from '../support/assets.js';
import { testRedisUrl } from '../support/env.js';
import { waitUntil } from '../support/wait.js';
import { collectResults, endedWithEos, poseSeqs, quietLogger, spawnCli, writeTestConfig } from './pipeline-support.js';

const DB = 54;
const FRAMES = 179;
const STREAM = 'tud';
const KILL_AFTER = 70;

describe.skipIf(skipWithout('tudVideo') || !existsSync(defaultModelPaths.fp32))('tracking: the owning worker is killed mid-stream', () => {
  const redis = new Redis(testRedisUrl(DB));
  const { file, config } = writeTestConfig(DB, [{ id: STREAM, url: assetPath('tudVideo'), mode: 'lossless' }], {
    worker: { batchSize: 2, inferRequests: 1 },
  });
  const workers = [spawnCli(['worker', '-c', file]), spawnCli(['worker', '-c', file])];
  const processIdOf = (pid: number | undefined) => `${hostname()}-${pid}`;
  let stopIngest: (() => Promise<void>) | undefined;
  let poses: PoseResult[];
  let victimId: string;

  beforeAll(async () => {
    await redis.flushdb();
    // Both workers up (heartbeats) before the stream exists, so the survivor is ready when the owner dies.
    await waitUntil(async () => ((await redis.zcard(keys.workers)) >= 2 ? true : undefined), 90_000, 'both workers to report');
    const ingest = await startIngest(config, { logger: quietLogger() });
    stopIngest = () => ingest.stop();
    let killed = false;
    const results = await collectResults(testRedisUrl(DB), [STREAM], (r) => endedWithEos(r.get(STREAM)), 150_000, (r) => {
      const list = r.get(STREAM) ?? [];
      if (!killed && list.length >= KILL_AFTER) {
        killed = true;
        victimId = (list.at(-1) as PoseResult).worker;
        workers.find((w) => processIdOf(w.pid) === victimId)!.kill('SIGKILL');
      }
    });
    expect(killed).toBe(true);
    const list: StreamResult[] = results.get(STREAM)!;
    expect(poseSeqs(list)).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
    poses = list.filter((r): r is PoseResult => r.kind === 'pose');
  }, 240_000);

  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await stopIngest?.();
    redis.disconnect();
  });

  it('both workers published: the survivor took the stream over', () => {
    const producers = [...new Set(poses.map((r) => r.worker))];
    expect(producers).toHaveLength(2);
    expect(poses[0]!.worker).toBe(victimId);
    expect(poses.at(-1)!.worker).not.toBe(victimId);
  });

  it('the people on screen at the hand-over keep their ids', () => {
    const handOver = poses.findIndex((r) => r.worker !== victimId);
    const before = poses[handOver - 1]!;
    const after = poses[handOver]!;
    const pairs = before.persons.flatMap((a) => {
      const b = after.persons.find((p) => iou(p.box, a.box) > 0.5);
      return a.trackId !== undefined && b?.trackId !== undefined ? [[a.trackId, b.trackId]] : [];
    });
    expect(pairs.length).toBeGreaterThanOrEqual(3);
    for (const [was, is] of pairs) expect(is).toBe(was);
  });

  it('no id is given twice: ids appear in increasing order, and each id is one person (no jumps, no late return)', () => {
    const firstSeen: number[] = [];
    const last = new Map<number, { seq: number; box: PoseResult['persons'][number]['box'] }>();
    for (const r of poses) {
      for (const p of r.persons) {
        if (p.trackId === undefined) continue;
        if (!firstSeen.includes(p.trackId)) firstSeen.push(p.trackId);
        const before = last.get(p.trackId);
        if (before) {
          // Within the lost timeout (1 s = 25 frames here) and at walking speed plus box jitter (< 0.12 height per
          // frame; through the I420 frame path one re-found person moved 31.4 px where 0.1 allowed 31.3).
          const frames = r.seq - before.seq;
          const height = p.box[3] - p.box[1];
          const moved = Math.hypot((p.box[0] + p.box[2] - before.box[0] - before.box[2]) / 2, (p.box[1] + p.box[3] - before.box[1] - before.box[3]) / 2);
          expect(frames, `id ${p.trackId} at seq ${r.seq}`).toBeLessThanOrEqual(26);
          expect(moved, `id ${p.trackId} at seq ${r.seq}`).toBeLessThan(0.12 * height * frames + (p.box[2] - p.box[0]));
        }
        last.set(p.trackId, { seq: r.seq, box: p.box });
      }
    }
    expect(firstSeen.length).toBeGreaterThanOrEqual(8);
    expect(firstSeen).toEqual([...firstSeen].sort((a, b) => a - b));
    expect(firstSeen[0]).toBe(1);
  });

  it('every id is what one tracker over the whole stream gives, as if nobody had died', () => {
    const tracker = new PoseTracker(trackerConfig());
    for (const r of poses) {
      const raw = r.persons.map(({ box, score, keypoints }) => ({ box, score, keypoints }));
      const expected = tracker.update(r.ptsMs ?? r.captureTs, raw).map((a) => a.trackId);
      expect(r.persons.map((p) => p.trackId), `seq ${r.seq}`).toEqual(expected);
    }
  });
});
