import { describe, expect, it } from 'vitest';
import { retryableStatus, retryDelayMs } from '../../../../../workers/notify/webhook/retry-delay.js';

const options = { initialMs: 1_000, maxMs: 30_000 };

describe('retryDelayMs', () => {
  it('has an exponential ceiling, capped, reached when the jitter draws 1', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 40].map((attempt) => retryDelayMs(attempt, options, () => 1))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('is spread uniformly below the ceiling (full jitter)', () => {
    expect(retryDelayMs(3, options, () => 0)).toBe(0);
    expect(retryDelayMs(3, options, () => 0.25)).toBe(1_000);
    const draws = Array.from({ length: 200 }, () => retryDelayMs(4, options));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThanOrEqual(8_000);
    expect(new Set(draws).size).toBeGreaterThan(50);
  });
});

describe('retryableStatus', () => {
  it('retries server errors, timeouts and rate limits, not other client errors', () => {
    expect([500, 502, 503, 408, 429].every(retryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 410, 422].some(retryableStatus)).toBe(false);
  });
});
