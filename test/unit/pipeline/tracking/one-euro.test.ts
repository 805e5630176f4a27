import { describe, expect, it } from 'vitest';
import { createOneEuroState, oneEuroStep } from '../../../../pipeline/tracking/one-euro.js';
import { gaussian, seededRandom } from './synthetic.js';

const options = { minCutoff: 0.05, beta: 80, derivativeCutoff: 1 };

describe('One Euro filter', () => {
  it('keeps a constant signal constant and ignores a zero time step', () => {
    const state = createOneEuroState([10, 20]);
    const out: number[] = [];
    oneEuroStep(state, [10, 20], 1 / 30, 100, options, out);
    expect(out).toEqual([10, 20]);
    oneEuroStep(state, [50, 60], 0, 100, options, out);
    expect(out).toEqual([10, 20]);
  });

  it('smooths jitter at rest much more than it lags a fast move', () => {
    // A still keypoint of a 150-pixel person with 0.25-pixel jitter.
    const noise = gaussian(seededRandom(7));
    const still = createOneEuroState([0]);
    const out: number[] = [];
    let raw = 0;
    let smoothed = 0;
    for (let i = 0; i < 300; i++) {
      const value = 0.25 * noise();
      oneEuroStep(still, [value], 1 / 30, 150, options, out);
      if (i >= 30) {
        raw += value ** 2;
        smoothed += out[0]! ** 2;
      }
    }
    expect(Math.sqrt(smoothed / raw)).toBeLessThan(0.5);

    const moving = createOneEuroState([0]);
    for (let i = 1; i <= 30; i++) oneEuroStep(moving, [i * 10], 1 / 30, 100, options, out); // 3 object sizes/s
    expect(300 - out[0]!).toBeLessThan(10); // lags less than a tenth of the object
  });

  it('is scale-free: values and scale 3x larger give outputs 3x larger', () => {
    const a = createOneEuroState([0]);
    const b = createOneEuroState([0]);
    const outA: number[] = [];
    const outB: number[] = [];
    for (let i = 1; i <= 20; i++) {
      const value = Math.sin(i / 3) * 5;
      oneEuroStep(a, [value], 1 / 25, 50, options, outA);
      oneEuroStep(b, [3 * value], 1 / 25, 150, options, outB);
      expect(outB[0]).toBeCloseTo(3 * outA[0]!, 9);
    }
  });
});
