/**
 * Geometry through the whole pipeline (real Redis DB 27, GStreamer decoder process, OpenVINO): a file whose
 * resolution changes mid-stream (640x360 -> 320x240, made at test time) gives results whose source size follows
 * frame by frame, with every keypoint inside its own frame, and media time in every result.
 */
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModelPaths } from '../../pipeline/assets.js';
import type { PoseResult, StreamResult } from '../../pipeline/wire/v1.js';
import { startIngest } from '../../workers/ingest/main.js';
import { startWorker } from '../../workers/inference/main.js';
import { skipWithout } from '../support/assets.js';
import { testRedisUrl } from '../support/env.js';
import { resolutionChangeClip } from '../support/media.js';
import { collectResults, endedWithEos, quietLogger, writeTestConfig } from './pipeline-support.js';

const DB = 27;

describe.skipIf(skipWithout('walkingVideo') || !existsSync(defaultModelPaths.fp32))('pipeline: a mid-stream resolution change', () => {
  const redis = new Redis(testRedisUrl(DB));
  const logger = quietLogger();
  const stops: Array<() => Promise<void>> = [];
  let poses: PoseResult[];

  beforeAll(async () => {
    await redis.flushdb();
    const { config } = writeTestConfig(DB, [{ id: 'change', url: resolutionChangeClip(), mode: 'lossless' }]);
    const worker = await startWorker(config, { logger });
    stops.push(() => worker.stop());
    const ingest = await startIngest(config, { logger });
    stops.push(() => ingest.stop());
    const results = await collectResults(testRedisUrl(DB), ['change'], (r) => endedWithEos(r.get('change')), 90_000);
    poses = results.get('change')!.filter((r: StreamResult): r is PoseResult => r.kind === 'pose');
  }, 120_000);

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
    await redis.flushdb();
    redis.disconnect();
  });

  it('reports each result at the size of its own frame', () => {
    expect(poses.map((pose) => pose.seq)).toEqual([...Array(60).keys()]);
    expect(poses.map((pose) => `${pose.sourceWidth}x${pose.sourceHeight}`)).toEqual([...Array(30).fill('640x360'), ...Array(30).fill('320x240')]);
  });

  it('keeps every person inside its own frame, in both halves', () => {
    for (const half of [poses.slice(0, 30), poses.slice(30)]) {
      const withPerson = half.filter((pose) => pose.persons.length > 0);
      expect(withPerson.length).toBeGreaterThanOrEqual(27);
      for (const pose of half) {
        for (const person of pose.persons) {
          const [x1, y1, x2, y2] = person.box;
          expect(x1).toBeGreaterThanOrEqual(-1);
          expect(y1).toBeGreaterThanOrEqual(-1);
          expect(x2).toBeLessThanOrEqual(pose.sourceWidth + 1);
          expect(y2).toBeLessThanOrEqual(pose.sourceHeight + 1);
          for (const [x, y, confidence] of person.keypoints) {
            if (confidence < 0.5) continue;
            expect(x).toBeGreaterThanOrEqual(0);
            expect(y).toBeGreaterThanOrEqual(0);
            expect(x).toBeLessThanOrEqual(pose.sourceWidth);
            expect(y).toBeLessThanOrEqual(pose.sourceHeight);
          }
        }
      }
    }
    // The same walker on both sides of the change, scaled with the frame: 320/640 across, 240/360 down.
    const height = (pose: PoseResult) => pose.persons[0]!.box[3] - pose.persons[0]!.box[1];
    const [before, after] = [poses[29]!, poses[30]!];
    expect(height(after) / height(before)).toBeGreaterThan((240 / 360) * 0.8);
    expect(height(after) / height(before)).toBeLessThan((240 / 360) * 1.25);
  });

  it('carries the media time of every frame into its result', () => {
    const times = poses.map((pose) => pose.ptsMs);
    expect(times.every((time) => typeof time === 'number')).toBe(true);
    const steps = times.slice(1).map((time, i) => time! - times[i]!);
    for (const step of steps) expect(step).toBeCloseTo(1000 / 30, 0);
  });
});
