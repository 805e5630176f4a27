import { describe, expect, it } from 'vitest';
import { centreVariance, holdKalmanSize, initiateKalman, kalmanBox, predictKalman, updateKalman } from '../../../../pipeline/tracking/kalman-box.js';

const noise = { position: 1 / 20, velocity: 1 / 160 };

function walk(scale: number, frames: number, step: number): Float64Array {
  const state = initiateKalman([100 * scale, 200 * scale, 40 * scale, 100 * scale], noise);
  for (let f = 1; f <= frames; f++) {
    predictKalman(state, step, noise);
    updateKalman(state, [(100 + 3 * f * step) * scale, 200 * scale, 40 * scale, 100 * scale], noise);
  }
  return state;
}

describe('box Kalman filter', () => {
  it('learns a constant velocity and extrapolates it by elapsed time', () => {
    const state = walk(1, 30, 1);
    expect(state[4]).toBeCloseTo(3, 1);
    const before = state[0]!;
    predictKalman(state, 2.5, noise);
    expect(state[0]! - before).toBeCloseTo(2.5 * state[4]!, 6);
  });

  it('is scale-free: the same walk at 3x resolution gives 3x the state', () => {
    const small = walk(1, 20, 1);
    const large = walk(3, 20, 1);
    for (let i = 0; i < 8; i++) expect(large[i]).toBeCloseTo(3 * small[i]!, 6);
    expect(centreVariance(large)).toBeCloseTo(9 * centreVariance(small), 4);
  });

  it('grows its uncertainty with time unseen, and one 2-frame step equals two 1-frame steps in the mean', () => {
    const a = walk(1, 10, 1);
    const b = a.slice();
    const variance = centreVariance(a);
    predictKalman(a, 2, noise);
    predictKalman(b, 1, noise);
    predictKalman(b, 1, noise);
    expect(a[0]).toBeCloseTo(b[0]!, 9);
    expect(centreVariance(a)).toBeGreaterThan(variance);
    predictKalman(a, 0, noise);
    expect(centreVariance(a)).toBe(centreVariance(a));
  });

  it('holds the size of a lost track and never lets a box shrink below a pixel', () => {
    const state = initiateKalman([100, 100, 40, 100], noise);
    state[6] = -30;
    state[7] = -60;
    const held = state.slice();
    holdKalmanSize(held);
    predictKalman(held, 5, noise);
    expect(held[2]).toBe(40);
    expect(held[3]).toBe(100);
    predictKalman(state, 5, noise);
    const [x1, y1, x2, y2] = kalmanBox(state);
    expect(x2 - x1).toBeGreaterThanOrEqual(1);
    expect(y2 - y1).toBeGreaterThanOrEqual(1);
  });

  it('trusts a confident measurement more (NSA noise scale)', () => {
    const a = initiateKalman([100, 100, 40, 100], noise);
    const b = a.slice();
    updateKalman(a, [110, 100, 40, 100], noise, 0.1);
    updateKalman(b, [110, 100, 40, 100], noise, 1);
    expect(a[0]! - 100).toBeGreaterThan(b[0]! - 100);
  });
});
