/**
 * `posestream eval falls` end to end (a child process, as a user runs it) on a subset of the development falls
 * (two falls, the deep-squat hard negative: the three shortest clips, ~15 s of video) on its own Redis DB (62):
 * the real decoder, model, tracker and event engine, scored by scikit-learn through the models toolchain. Floor:
 * both falls found within 5 s of their labelled onset, no false alert, and the JSON shape of the command.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultModelPaths } from '../../pipeline/assets.js';
import { assetPath, skipWithout } from '../support/assets.js';
import { testRedisUrl } from '../support/env.js';
import { exited, spawnCli } from './pipeline-support.js';

const DB = 62;
const SUBSET = ['S3_Fall_19.mp4', 'S1_Fall_13.mp4', 'S3_ADL_07.mp4'];

describe.skipIf(skipWithout('fallsDev') || !existsSync(defaultModelPaths.int8))('posestream eval falls (subset of the development clips)', () => {
  const redis = new Redis(testRedisUrl(DB));

  afterAll(async () => {
    await redis.flushdb();
    redis.disconnect();
  });

  it('finds both falls, raises no false alert, and prints the documented JSON', async () => {
    await redis.flushdb();
    const data = assetPath('fallsDev');
    const all = JSON.parse(readFileSync(path.join(data, 'labels.json'), 'utf8')) as { clips: Array<{ file: string }> };
    const labels = path.join(mkdtempSync(path.join(tmpdir(), 'posestream-eval-falls-')), 'labels.json');
    writeFileSync(labels, JSON.stringify({ clips: all.clips.filter((clip) => SUBSET.includes(clip.file)) }));
    const run = spawnCli(['eval', 'falls', '--data', data, '--labels', labels, '--model', defaultModelPaths.int8, '--redis', testRedisUrl(DB), '--parallel', '3', '--json']);
    const code = await exited(run, 240_000);
    expect(code, run.output().stderr).toBe(0);
    const report = JSON.parse(run.output().stdout) as {
      clips: Array<{ file: string; fall: boolean; detected: boolean; delay_s: number | null }>;
      precision: number;
      recall: number;
      f1: number;
      false_alerts: number;
    };
    expect(report.clips.map((clip) => clip.file).sort()).toEqual([...SUBSET].sort());
    expect(report.false_alerts).toBe(0);
    expect(report.recall).toBe(1);
    expect(report.precision).toBe(1);
    expect(report.f1).toBe(1);
    for (const clip of report.clips.filter((one) => one.fall)) expect(clip.delay_s).toBeLessThan(5);
    // The run's database is left empty.
    expect(await redis.dbsize()).toBe(0);
  }, 300_000);

  it('refuses a database that is not empty, naming it, and leaves it alone', async () => {
    await redis.set('someone-elses-key', 'x');
    const run = spawnCli(['eval', 'falls', '--data', assetPath('fallsDev'), '--redis', testRedisUrl(DB)]);
    expect(await exited(run, 60_000)).not.toBe(0);
    expect(run.output().stderr).toMatch(/holds 1 key\(s\).*empty database/);
    expect(await redis.get('someone-elses-key')).toBe('x');
  });
});
