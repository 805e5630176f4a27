/**
 * Golden test of the TypeScript pose path against models/ (Python, the reference). Python dumps, per image, the
 * letterboxed input it fed the model, the raw [56, 8400] output and its own decode (`posestream_models golden`).
 * Then: the TS letterbox of the same file must be byte-identical to Python's input, and decodePoses on the SAME
 * output tensor must give the same persons (count equal, boxes and keypoints within 0.5 px; in practice they agree
 * to float rounding). Images: bus.jpg, zidane.jpg and the 8 coco8-pose images.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assetPath, defaultModelPaths } from '../../pipeline/assets.js';
import { readFittedImage } from '../../pipeline/image/read-image.js';
import { decodePoses } from '../../pipeline/pose/decode-yolov8.js';
import { letterboxTransform, padInto } from '../../pipeline/pose/letterbox.js';
import type { Person } from '../../pipeline/wire/v1.js';
import { skipWithout } from '../support/assets.js';
import { testArtifactsDir, venvPython } from '../support/env.js';

interface GoldenImage {
  image: string;
  input: string;
  output: string;
  anchors: number;
  letterbox: { scale: number; padX: number; padY: number; sourceWidth: number; sourceHeight: number };
  persons: Record<string, Person[]>;
}

const TOLERANCE_PX = 0.5;

function maxPersonDiff(ours: Person[], reference: Person[]): number {
  let max = 0;
  ours.forEach((person, i) => {
    const other = reference[i]!;
    person.box.forEach((v, k) => (max = Math.max(max, Math.abs(v - other.box[k]!))));
    person.keypoints.forEach((point, k) => {
      max = Math.max(max, Math.abs(point[0] - other.keypoints[k]![0]), Math.abs(point[1] - other.keypoints[k]![1]));
    });
  });
  return max;
}

describe.skipIf(skipWithout('busImage', 'zidaneImage', 'coco8Pose'))('TS pose path vs models/ (golden)', () => {
  let golden: { precision: string; images: GoldenImage[] };

  beforeAll(() => {
    const coco8 = path.join(assetPath('coco8Pose'), 'images');
    const images = [assetPath('busImage'), assetPath('zidaneImage')];
    for (const split of ['train', 'val']) {
      images.push(...readdirSync(path.join(coco8, split)).filter((f) => f.endsWith('.jpg')).sort().map((f) => path.join(coco8, split, f)));
    }
    const out = path.join(testArtifactsDir, 'pose-golden');
    mkdirSync(out, { recursive: true });
    const run = spawnSync(venvPython, ['-m', 'posestream_models', 'golden', '--model', defaultModelPaths.fp32, '--out', out, '--json', ...images], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(0);
    golden = JSON.parse(readFileSync(path.join(out, 'golden.json'), 'utf8')) as typeof golden;
    expect(golden.images).toHaveLength(10);
    expect(golden.precision).toBe('f32');
  }, 120_000);

  it('letterboxes every image to the very bytes Python feeds the model', async () => {
    for (const entry of golden.images) {
      const frame = await readFittedImage(entry.image);
      const transform = letterboxTransform(frame.sourceWidth, frame.sourceHeight, 640, frame.width, frame.height);
      expect(transform, entry.image).toEqual({ ...entry.letterbox, size: 640 });
      const canvas = new Uint8Array(640 * 640 * 3);
      padInto(canvas, 0, frame.pixels, frame.width, frame.height);
      const reference = readFileSync(entry.input);
      expect(Buffer.from(canvas).equals(reference), `${entry.image}: letterboxed input differs from Python's`).toBe(true);
    }
  });

  it('decodes the same output tensor to the same persons at conf 0.25 and at the eval conf 0.001', () => {
    let compared = 0;
    let worst = 0;
    for (const entry of golden.images) {
      const raw = readFileSync(entry.output);
      const output = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
      const transform = { ...entry.letterbox, size: 640 };
      for (const [conf, reference] of Object.entries(entry.persons)) {
        const ours = decodePoses(output, entry.anchors, 0, transform, { confidence: Number(conf), iou: 0.7, maxDetections: 300 });
        expect(ours.length, `${entry.image} conf ${conf}`).toBe(reference.length);
        expect(ours.map((p) => p.score)).toEqual(reference.map((p) => p.score));
        const diff = maxPersonDiff(ours, reference);
        expect(diff, `${entry.image} conf ${conf}`).toBeLessThanOrEqual(TOLERANCE_PX);
        worst = Math.max(worst, diff);
        compared += reference.length;
      }
    }
    // bus.jpg alone has 4 persons at 0.25; at 0.001 every image yields many candidates for NMS to sort out.
    expect(compared).toBeGreaterThan(100);
    expect(worst).toBeLessThan(1e-3);
  });
});
