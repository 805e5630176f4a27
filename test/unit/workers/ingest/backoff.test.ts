import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../../workers/ingest/backoff.js';

describe('Backoff', () => {
  it('doubles from the initial delay up to the cap', () => {
    const backoff = new Backoff({ initialMs: 500, maxMs: 3_000, healthyAfterMs: 10_000 });
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([500, 1_000, 2_000, 3_000, 3_000]);
  });

  it('resets only after a healthy period, not after one good frame', () => {
    let now = 0;
    const backoff = new Backoff({ initialMs: 100, maxMs: 10_000, healthyAfterMs: 5_000 }, () => now);
    backoff.next();
    backoff.next();
    backoff.healthy();
    now = 4_999;
    backoff.healthy();
    expect(backoff.next()).toBe(400);
    backoff.healthy();
    now = 20_000;
    backoff.healthy();
    expect(backoff.attempts).toBe(0);
    expect(backoff.next()).toBe(100);
  });
});
