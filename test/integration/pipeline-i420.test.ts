/**
 * The I420 frame path end to end (real Redis DBs 30 and 31, GStreamer decoder process, OpenVINO): with
 * model.inputFormat i420 ingest puts I420 frames (half the bytes of RGB) on Redis and the worker's model converts
 * the colour in its graph; the results match a run of the same file with model.inputFormat rgb, frame by frame.
 */
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModelPaths } from '../../pipeline/assets.js';
import { frameBytes } from '../../pipeline/image/i420.js';
import { decodeFrameFields } from '../../pipeline/redis/codec.js';
import { keys } from '../../pipeline/redis/keys.js';
import type { Person, PoseResult, StreamResult } from '../../pipeline/wire/v1.js';
import { startIngest } from '../../workers/ingest/main.js';
import { startWorker } from '../../workers/inference/main.js';
import { skipWithout } from '../support/assets.js';
import { testRedisUrl } from '../support/env.js';
import { resolutionChangeClip } from '../support/media.js';
import { waitUntil } from '../support/wait.js';
import { collectResults, endedWithEos, quietLogger, writeTestConfig } from './pipeline-support.js';

const FORMATS = [
  { inputFormat: 'i420', db: 30 },
  { inputFormat: 'rgb', db: 31 },
] as const;

function iou(a: Person['box'], b: Person['box']): number {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = w * h;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

describe.skipIf(skipWithout('walkingVideo') || !existsSync(defaultModelPaths.fp32))('pipeline: I420 frames through Redis', () => {
  const logger = quietLogger();
  const stops: Array<() => Promise<void>> = [];
  const poses = new Map<string, PoseResult[]>();
  const firstFrame = new Map<string, ReturnType<typeof decodeFrameFields>>();

  /** Ingest first, so the first frame can be read off Redis before a worker takes it; then the worker. */
  async function run(inputFormat: 'i420' | 'rgb', db: number): Promise<void> {
    const redis = new Redis(testRedisUrl(db));
    try {
      await redis.flushdb();
      const { config } = writeTestConfig(db, [{ id: 'clip', url: resolutionChangeClip(), mode: 'lossless' }], { model: { inputFormat } });
      const ingest = await startIngest(config, { logger });
      stops.push(() => ingest.stop());
      const first = await waitUntil(async () => {
        const entries = (await redis.xrangeBuffer(keys.frames('clip'), '-', '+', 'COUNT', 1)) as Array<[Buffer, Buffer[]]>;
        return entries[0] ? decodeFrameFields(entries[0][1]) : undefined;
      }, 30_000, 'the first frame on Redis', 50);
      firstFrame.set(inputFormat, first);
      const worker = await startWorker(config, { logger });
      stops.push(() => worker.stop());
      const results = await collectResults(testRedisUrl(db), ['clip'], (r) => endedWithEos(r.get('clip')), 90_000);
      poses.set(inputFormat, results.get('clip')!.filter((r: StreamResult): r is PoseResult => r.kind === 'pose'));
    } finally {
      redis.disconnect();
    }
  }

  beforeAll(async () => {
    for (const { inputFormat, db } of FORMATS) await run(inputFormat, db);
  }, 240_000);

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
    for (const { db } of FORMATS) {
      const redis = new Redis(testRedisUrl(db));
      await redis.flushdb();
      redis.disconnect();
    }
  });

  it('puts I420 frames on Redis, half the bytes of the RGB ones', () => {
    const i420 = firstFrame.get('i420')!;
    const rgb = firstFrame.get('rgb')!;
    if (i420.kind !== 'frame' || rgb.kind !== 'frame') throw new Error('expected frames');
    expect(i420.meta).toMatchObject({ format: 'i420', width: 640, height: 360 });
    expect(rgb.meta).toMatchObject({ format: 'rgb24', width: 640, height: 360 });
    expect(i420.pixels.length).toBe(frameBytes('i420', 640, 360));
    expect(i420.pixels.length * 2).toBe(rgb.pixels.length);
  });

  it('finds the same person in every frame as the RGB path, at both frame sizes', () => {
    const i420 = poses.get('i420')!;
    const rgb = poses.get('rgb')!;
    expect(i420.map((pose) => pose.seq)).toEqual([...Array(60).keys()]);
    expect(rgb.map((pose) => pose.seq)).toEqual([...Array(60).keys()]);
    let matched = 0;
    let withPerson = 0;
    for (const [index, reference] of rgb.entries()) {
      const ours = i420[index]!;
      expect(`${ours.sourceWidth}x${ours.sourceHeight}`).toBe(`${reference.sourceWidth}x${reference.sourceHeight}`);
      const best = reference.persons.reduce<Person | undefined>((top, person) => (!top || person.score > top.score ? person : top), undefined);
      if (!best) continue;
      withPerson++;
      if (ours.persons.some((person) => iou(person.box, best.box) > 0.85)) matched++;
    }
    expect(withPerson).toBeGreaterThanOrEqual(55);
    expect(matched).toBeGreaterThanOrEqual(withPerson - 1);
  });
});
