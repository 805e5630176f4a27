import { describe, expect, it } from 'vitest';
import { boxIou, createNmsScratch, nmsGreedy } from '../../../../pipeline/pose/nms.js';

function run(boxes: number[][], scores: number[], iou = 0.5, max = 10): number[] {
  const keep = new Int32Array(max);
  const n = nmsGreedy(new Float64Array(boxes.flat()), new Float64Array(scores), scores.length, iou, max, keep);
  return Array.from(keep.subarray(0, n));
}

describe('nms', () => {
  it('computes IoU, 0 for disjoint and empty boxes', () => {
    const boxes = [0, 0, 10, 10, 5, 0, 15, 10, 20, 20, 30, 30, 1, 1, 1, 1];
    expect(boxIou(boxes, 0, 1)).toBeCloseTo(50 / 150, 12);
    expect(boxIou(boxes, 0, 2)).toBe(0);
    expect(boxIou(boxes, 3, 3)).toBe(0);
  });

  it('keeps the best of overlapping boxes, best score first, ties to the earlier candidate', () => {
    const boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 10], [51, 51, 61, 61]];
    expect(run(boxes, [0.6, 0.9, 0.5, 0.9, 0.7])).toEqual([1, 4]);
    // IoU exactly at the threshold is kept (suppression needs IoU > threshold), as in models/ decode.py.
    expect(run([[0, 0, 10, 10], [5, 0, 15, 10]], [0.9, 0.8], 50 / 150)).toEqual([0, 1]);
    expect(run([[0, 0, 10, 10], [5, 0, 15, 10]], [0.9, 0.8], 0.3)).toEqual([0]);
  });

  it('stops at maxKeep and reuses scratch across calls', () => {
    const boxes = Array.from({ length: 20 }, (_, i) => [i * 20, 0, i * 20 + 10, 10]);
    const scores = boxes.map((_, i) => i / 20);
    expect(run(boxes, scores, 0.5, 3)).toEqual([19, 18, 17]);
    const scratch = createNmsScratch(20);
    const keep = new Int32Array(20);
    const flat = new Float64Array(boxes.flat());
    expect(nmsGreedy(flat, new Float64Array(scores), 20, 0.5, 20, keep, scratch)).toBe(20);
    expect(nmsGreedy(flat, new Float64Array(scores), 5, 0.5, 20, keep, scratch)).toBe(5);
    expect(() => nmsGreedy(flat, scores, 20, 0.5, 20, keep, createNmsScratch(4))).toThrow(/scratch/);
  });
});
