import { describe, expect, it } from 'vitest';
import { keypointSimilarity } from '../../../../pipeline/tracking/oks.js';
import { person, scaled } from './synthetic.js';

const options = { minConfidence: 0.5, minKeypoints: 4 };
const flat = (p: ReturnType<typeof person>) => Float64Array.from(p.keypoints.flat());
const area = (p: ReturnType<typeof person>) => (p.box[2] - p.box[0]) * (p.box[3] - p.box[1]);

describe('keypointSimilarity (OKS)', () => {
  const a = person({ cx: 200, cy: 200, h: 180 });

  it('is 1 for identical poses and falls with distance', () => {
    expect(keypointSimilarity(flat(a), flat(a), area(a), 0, options)).toBeCloseTo(1, 12);
    const near = person({ cx: 205, cy: 200, h: 180 });
    const neighbour = person({ cx: 250, cy: 200, h: 180 });
    const oksNear = keypointSimilarity(flat(a), flat(near), area(a), 0, options);
    const oksNeighbour = keypointSimilarity(flat(a), flat(neighbour), area(a), 0, options);
    expect(oksNear).toBeGreaterThan(0.8);
    expect(oksNeighbour).toBeLessThan(0.3);
  });

  it('is scale-free: the same scene at 3x resolution scores the same', () => {
    const b = person({ cx: 220, cy: 205, h: 180 });
    const small = keypointSimilarity(flat(a), flat(b), area(a), 10, options);
    const large = keypointSimilarity(flat(scaled(a, 3)), flat(scaled(b, 3)), area(scaled(a, 3)), 90, options);
    expect(large).toBeCloseTo(small, 12);
  });

  it('tolerates more distance when the prediction is uncertain', () => {
    const b = person({ cx: 230, cy: 200, h: 180 });
    expect(keypointSimilarity(flat(a), flat(b), area(a), 400, options)).toBeGreaterThan(keypointSimilarity(flat(a), flat(b), area(a), 0, options));
  });

  it('counts only keypoints both sides are sure of, and says -1 when too few are', () => {
    const unsure = person({ cx: 200, cy: 200, h: 180, keypointConfidence: 0.3 });
    expect(keypointSimilarity(flat(a), flat(unsure), area(a), 0, options)).toBe(-1);
    // Hide all but three keypoints of a far-off pose: three are not enough to judge.
    const far = flat(person({ cx: 400, cy: 200, h: 180 }));
    for (let k = 3; k < 17; k++) far[k * 3 + 2] = 0.1;
    expect(keypointSimilarity(flat(a), far, area(a), 0, options)).toBe(-1);
    expect(keypointSimilarity(flat(a), far, area(a), 0, { minConfidence: 0.5, minKeypoints: 3 })).toBeLessThan(0.01);
  });
});
