import { describe, expect, it } from 'vitest';
import { POSE_ROWS, decodePoses } from '../../../../pipeline/pose/decode-yolov8.js';
import { letterboxTransform } from '../../../../pipeline/pose/letterbox.js';

interface Anchor {
  cx: number;
  cy: number;
  w: number;
  h: number;
  score: number;
  kpt?: (j: number) => [number, number, number];
}

/** Builds an [N, 56, anchors] tensor the way the model lays it out: one row per value, anchors along the row. */
function tensor(images: Anchor[][], anchors: number): Float32Array {
  const out = new Float32Array(images.length * POSE_ROWS * anchors);
  images.forEach((list, n) => {
    const base = n * POSE_ROWS * anchors;
    list.forEach((anchor, a) => {
      const values = [anchor.cx, anchor.cy, anchor.w, anchor.h, anchor.score];
      for (let j = 0; j < 17; j++) values.push(...(anchor.kpt?.(j) ?? [anchor.cx, anchor.cy, 0.9]));
      values.forEach((v, row) => (out[base + row * anchors + a] = v));
    });
  });
  return out;
}

const options = { confidence: 0.25, iou: 0.7, maxDetections: 300 };

describe('decodePoses', () => {
  // 1280x720 source: scale 0.5, padY 140.
  const transform = letterboxTransform(1280, 720);

  it('filters by score, suppresses overlaps, undoes the letterbox and keeps keypoint confidences', () => {
    const anchors = 8;
    const output = tensor(
      [[
        { cx: 100, cy: 240, w: 40, h: 80, score: 0.9, kpt: (j) => [90 + j, 220 + j, j / 20] },
        { cx: 102, cy: 242, w: 40, h: 80, score: 0.8 }, // overlaps the first: suppressed
        { cx: 400, cy: 300, w: 60, h: 100, score: 0.6 },
        { cx: 500, cy: 300, w: 60, h: 100, score: 0.2 }, // below confidence
      ]],
      anchors,
    );
    const persons = decodePoses(output, anchors, 0, transform, options);
    expect(persons).toHaveLength(2);
    const [first, second] = persons;
    expect(first!.score).toBeCloseTo(0.9, 6);
    expect(first!.box).toEqual([160, 120, 240, 280]); // ((100-20)-0)/0.5, ((240-40)-140)/0.5, ...
    expect(first!.keypoints).toHaveLength(17);
    expect(first!.keypoints[3]![0]).toBeCloseTo(186, 6);
    expect(first!.keypoints[3]![1]).toBeCloseTo(166, 6);
    expect(first!.keypoints[3]![2]).toBeCloseTo(0.15, 6);
    expect(second!.box).toEqual([740, 220, 860, 420]);
  });

  it('clips to the source image and reads the requested batch index', () => {
    const anchors = 3;
    const output = tensor(
      [
        [{ cx: 320, cy: 320, w: 10, h: 10, score: 0.5 }],
        [{ cx: 5, cy: 150, w: 40, h: 40, score: 0.95, kpt: () => [700, 10, 0.5] }],
      ],
      anchors,
    );
    const [person] = decodePoses(output, anchors, 1, transform, options);
    expect(person!.box).toEqual([0, 0, 50, 60]); // x1 -30 -> 0; y1 (130-140)/0.5 -> 0
    expect(person!.keypoints[0]).toEqual([1280, 0, 0.5]);
    expect(decodePoses(output, anchors, 0, transform, options)[0]!.box).toEqual([630, 350, 650, 370]);
  });

  it('orders by score, honours maxDetections and returns [] when nothing passes', () => {
    const anchors = 5;
    const list = [0.3, 0.9, 0.5, 0.7, 0.4].map((score, i) => ({ cx: 60 + i * 100, cy: 300, w: 50, h: 50, score }));
    const output = tensor([list], anchors);
    const persons = decodePoses(output, anchors, 0, transform, { ...options, maxDetections: 3 });
    expect(persons.map((p) => Math.round(p.score * 10))).toEqual([9, 7, 5]);
    expect(decodePoses(output, anchors, 0, transform, { ...options, confidence: 0.95 })).toEqual([]);
  });

  it('computes boxes in float32 like NumPy does on the float32 output', () => {
    const anchors = 1;
    const output = tensor([[{ cx: 100.1, cy: 300.3, w: 33.3, h: 77.7, score: 0.9 }]], anchors);
    const [person] = decodePoses(output, anchors, 0, letterboxTransform(640, 640), options);
    const f = Math.fround;
    expect(person!.box[0]).toBe(f(f(100.1) - f(33.3) / 2));
    expect(person!.box[3]).toBe(f(f(300.3) + f(77.7) / 2));
  });

  it('rejects a tensor too small for the batch index', () => {
    expect(() => decodePoses(new Float32Array(56 * 4), 4, 1, transform, options)).toThrow(/batch index 1/);
  });
});
