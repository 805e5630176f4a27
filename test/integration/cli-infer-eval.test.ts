/**
 * `posestream infer`, `eval` and the `bench` group end to end (real CLI processes, real OpenVINO), compared with
 * the Python reference commands of models/ on the same files.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { assetPath, defaultModelPaths, repoRoot } from '../../pipeline/assets.js';
import type { Person } from '../../pipeline/wire/v1.js';
import { skipWithout } from '../support/assets.js';
import { dynamicPoseModel } from '../support/dynamic-model.js';
import { testArtifactsDir, venvPython } from '../support/env.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const posestream = (...args: string[]) => run(process.execPath, ['bin/posestream.cjs', ...args]);
const python = (...args: string[]) => run(venvPython, ['-m', 'posestream_models', ...args]);

interface ImageResult {
  image: string;
  width: number;
  height: number;
  persons: Person[];
}

/** End to end (decode + letterbox + inference + decode) the two paths differ only by kernel rounding. */
const E2E_TOLERANCE_PX = 0.5;
const MAP_TOLERANCE = 0.003;

describe.skipIf(skipWithout('busImage', 'zidaneImage', 'coco8Pose'))('posestream infer / eval / bench', () => {
  const work = path.join(testArtifactsDir, 'cli-infer-eval');
  const bad = path.join(work, 'not-an-image.jpg');

  beforeAll(() => {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    writeFileSync(bad, 'plain text, not a JPEG');
  });

  it('infer loads a dynamic=True export ([?,3,?,?]) and finds what the static model finds', async () => {
    const images = [assetPath('busImage'), assetPath('zidaneImage')];
    const [dynamic, fixed] = await Promise.all([
      posestream('infer', ...images, '--model', dynamicPoseModel(), '--json'),
      posestream('infer', ...images, '--model', defaultModelPaths.fp32, '--json'),
    ]);
    expect(dynamic.code, dynamic.stderr).toBe(0);
    const a = JSON.parse(dynamic.stdout) as ImageResult[];
    const b = JSON.parse(fixed.stdout) as ImageResult[];
    expect(a.map((r) => r.persons.length)).toEqual([4, 2]);
    a.forEach((result, i) => result.persons.forEach((person, j) => person.box.forEach((v, k) => expect(Math.abs(v - b[i]!.persons[j]!.box[k]!)).toBeLessThan(0.05))));
  });

  it('infer --json matches `models predict` on bus.jpg and zidane.jpg', async () => {
    const images = [assetPath('busImage'), assetPath('zidaneImage')];
    const [ours, reference] = await Promise.all([
      posestream('infer', ...images, '--model', defaultModelPaths.fp32, '--json'),
      python('predict', '--model', defaultModelPaths.fp32, ...images, '--json'),
    ]);
    expect(ours.code, ours.stderr).toBe(0);
    expect(reference.code, reference.stderr).toBe(0);
    const a = JSON.parse(ours.stdout) as ImageResult[];
    const b = JSON.parse(reference.stdout) as ImageResult[];
    expect(a.map((r) => [r.image, r.width, r.height])).toEqual(b.map((r) => [r.image, r.width, r.height]));
    expect(a.map((r) => r.persons.length)).toEqual([4, 2]);
    a.forEach((result, i) => {
      expect(result.persons.length).toBe(b[i]!.persons.length);
      result.persons.forEach((person, j) => {
        const other = b[i]!.persons[j]!;
        expect(Math.abs(person.score - other.score)).toBeLessThan(1e-3);
        person.box.forEach((v, k) => expect(Math.abs(v - other.box[k]!)).toBeLessThanOrEqual(E2E_TOLERANCE_PX));
        person.keypoints.forEach((point, k) => {
          expect(Math.abs(point[0] - other.keypoints[k]![0])).toBeLessThanOrEqual(E2E_TOLERANCE_PX);
          expect(Math.abs(point[1] - other.keypoints[k]![1])).toBeLessThanOrEqual(E2E_TOLERANCE_PX);
        });
      });
    });
  });

  it('infer keeps going past unreadable files, names them, writes annotated images and exits 1', async () => {
    const out = path.join(work, 'annotated');
    const missing = path.join(work, 'missing.png');
    const result = await posestream('infer', assetPath('busImage'), bad, missing, '--out', out, '--json');
    expect(result.code).toBe(1);
    const lines = result.stderr.split('\n');
    expect(lines.some((l) => l.includes(bad) && l.includes('PS_IMAGE_UNREADABLE'))).toBe(true);
    expect(lines.some((l) => l.includes(missing) && l.includes('PS_IMAGE_UNREADABLE'))).toBe(true);
    expect(result.stderr).toMatch(/2 of 3 image\(s\) failed/);
    const json = JSON.parse(result.stdout) as ImageResult[];
    expect(json.map((r) => r.image)).toEqual([assetPath('busImage')]);
    // The annotated copy has the source size and differs from the source where the skeletons are drawn.
    const annotated = await sharp(path.join(out, 'bus.jpg')).raw().toBuffer({ resolveWithObject: true });
    expect([annotated.info.width, annotated.info.height]).toEqual([810, 1080]);
    const original = await sharp(assetPath('busImage')).raw().toBuffer();
    const [x1, y1] = json[0]!.persons[0]!.box.map(Math.round) as [number, number];
    const at = (buffer: Buffer, x: number, y: number) => Array.from(buffer.subarray((y * 810 + x) * 3, (y * 810 + x) * 3 + 3));
    const boxPixel = at(annotated.data, x1 + 1, y1 + 20);
    expect(Math.abs(boxPixel[0]! - 255)).toBeLessThan(40); // the red box line (JPEG-blurred)
    expect(at(original, x1 + 1, y1 + 20)).not.toEqual(boxPixel);
  });

  it('infer: a bad device lists the available ones, a missing model is named; both exit 2', async () => {
    const [device, model] = await Promise.all([
      posestream('infer', assetPath('busImage'), '--device', 'NOPE'),
      posestream('infer', assetPath('busImage'), '--model', path.join(work, 'nope.xml')),
    ]);
    expect(device.code).toBe(2);
    expect(device.stderr).toMatch(/unknown OpenVINO device "NOPE" \(available: .*CPU/);
    expect(model.code).toBe(2);
    expect(model.stderr).toContain(path.join(work, 'nope.xml'));
  });

  it('eval on coco8-pose is within 0.003 mAP of `models eval` (same scoring, f32)', async () => {
    const data = assetPath('coco8Pose');
    const [ours, reference, i420] = await Promise.all([
      posestream('eval', '--model', defaultModelPaths.fp32, '--data', data, '--json'),
      python('eval', '--model', defaultModelPaths.fp32, '--data', data, '--json'),
      posestream('eval', '--model', defaultModelPaths.fp32, '--data', data, '--input-format', 'i420', '--json'),
    ]);
    expect(ours.code, ours.stderr).toBe(0);
    expect(reference.code, reference.stderr).toBe(0);
    type Metrics = Record<'box' | 'pose', Record<'map50' | 'map', number>> & Record<string, unknown>;
    const a = JSON.parse(ours.stdout) as Metrics;
    const b = JSON.parse(reference.stdout) as Metrics;
    expect(a).toMatchObject({ images: 8, precision: 'f32', device: 'CPU', inputFormat: 'rgb' });
    // models eval's fields, plus the input format (models eval feeds RGB).
    expect(Object.keys(a).sort()).toEqual([...Object.keys(b), 'inputFormat'].sort());
    for (const key of ['box', 'pose'] as const) {
      for (const metric of ['map50', 'map'] as const) expect(Math.abs(a[key][metric] - b[key][metric])).toBeLessThanOrEqual(MAP_TOLERANCE);
    }
    expect(a.pose.map).toBeGreaterThan(0.3);
    // Through I420 (8 images: too few to compare mAP closely; coco-mini numbers are in README).
    expect(i420.code, i420.stderr).toBe(0);
    const c = JSON.parse(i420.stdout) as Metrics;
    expect(c).toMatchObject({ images: 8, precision: 'f32', inputFormat: 'i420' });
    expect(c.pose.map).toBeGreaterThan(0.3);
  });

  it('eval names a missing dataset; bench lists its subcommands', async () => {
    const missing = await posestream('eval', '--data', path.join(work, 'no-dataset'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/dataset not found: .*no-dataset \[PS_EVAL_BAD_DATASET\]/);
    const help = await posestream('bench', '--help');
    expect(help.stdout).toMatch(/engine\s/);
  });
});
