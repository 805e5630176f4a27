/**
 * `posestream eval track` end to end on TUD-Stadtmitte (179 frames, 10 people, MOT ground truth): the CLI runs the
 * clip through ingest + worker (tracking stage) on real Redis (DB 56), GStreamer's decoder and OpenVINO, and scores
 * the published track ids with py-motmetrics. A floor, not the target: the target is measured by the command itself
 * (README), this guards against a tracker or pipeline change that breaks who-is-who.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assetPath, defaultModelPaths, repoRoot } from '../../pipeline/assets.js';
import { skipWithout } from '../support/assets.js';
import { testArtifactsDir, testRedisUrl } from '../support/env.js';

const DB = 56;
const model = existsSync(defaultModelPaths.int8) ? defaultModelPaths.int8 : defaultModelPaths.fp32;

function posestream(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'posestream.cjs'), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(skipWithout('tudVideo', 'tudGroundTruth') || !existsSync(model))('posestream eval track', () => {
  it('tracks the people of TUD-Stadtmitte above the floor and writes MOT predictions', async () => {
    const out = path.join(testArtifactsDir, 'eval-track');
    const { code, stdout, stderr } = await posestream([
      'eval', 'track', '--video', assetPath('tudVideo'), '--gt', assetPath('tudGroundTruth'),
      '--model', model, '--redis', testRedisUrl(DB), '--out', out, '--json',
    ]);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout.trim()) as Record<string, number>;
    expect(Object.keys(result).sort()).toEqual(['frames', 'id_switches', 'idf1', 'mota', 'precision', 'recall', 'tracker_ms_per_frame']);
    expect(result.frames).toBe(179);
    expect(result.idf1).toBeGreaterThanOrEqual(0.8);
    expect(result.id_switches).toBeLessThanOrEqual(8);
    expect(result.mota).toBeGreaterThanOrEqual(0.77);
    expect(result.tracker_ms_per_frame).toBeGreaterThan(0);
    // MOT lines: frame (1-based), id, box; ids from the tracker (>= 1), frames within the clip.
    const lines = readFileSync(path.join(out, 'posestream.txt'), 'utf8').trim().split('\n').map((line) => line.split(',').map(Number));
    expect(lines.length).toBeGreaterThan(800);
    for (const [frame, id] of lines) {
      expect(frame).toBeGreaterThanOrEqual(1);
      expect(frame).toBeLessThanOrEqual(179);
      expect(id).toBeGreaterThanOrEqual(1);
    }
  }, 300_000);

  it('names a missing input in one line and exits non-zero', async () => {
    const { code, stderr } = await posestream(['eval', 'track', '--video', '/nonexistent.mp4', '--gt', assetPath('tudGroundTruth'), '--redis', testRedisUrl(DB)]);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/video not found: \/nonexistent\.mp4/);
    expect(stderr).not.toMatch(/at .*\.ts:\d+/);
  });
});
