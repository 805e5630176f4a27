import { describe, expect, it } from 'vitest';
import { percentile, summarize } from '../../../../cli/bench/stats.js';

describe('bench statistics', () => {
  it('uses nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('summarizes unsorted samples', () => {
    expect(summarize([3, 1, 2])).toEqual({ p50: 2, p99: 3, mean: 2, max: 3, count: 3 });
  });
});
