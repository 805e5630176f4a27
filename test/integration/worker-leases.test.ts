/** StreamLeases against the real test Redis (DB 28): one owner per stream, renewal, loss, release. */
import { Redis } from 'ioredis';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { keys } from '../../pipeline/redis/keys.js';
import { StreamLeases } from '../../workers/inference/stream-leases.js';
import { testRedisUrl } from '../support/env.js';

const redis = new Redis(testRedisUrl(28));
afterAll(() => redis.disconnect());
beforeEach(async () => {
  await redis.flushdb();
});

describe('StreamLeases', () => {
  it('gives a stream to one worker at a time and hands it over on release', async () => {
    const a = new StreamLeases(redis, { processId: 'a', leaseMs: 2_000 });
    const b = new StreamLeases(redis, { processId: 'b', leaseMs: 2_000 });
    expect(await a.tryAcquire('cam')).toBe(true);
    expect(await b.tryAcquire('cam')).toBe(false);
    expect(a.owns('cam')).toBe(true);
    expect(b.owns('cam')).toBe(false);
    await a.release('cam');
    expect(await redis.exists(keys.lease('cam'))).toBe(0);
    expect(await b.tryAcquire('cam')).toBe(true);
  });

  it('renewal extends the lease; a lease taken by another worker is reported lost and no longer owned', async () => {
    const lost: string[] = [];
    const a = new StreamLeases(redis, { processId: 'a', leaseMs: 300, onLost: (id) => lost.push(id) });
    expect(await a.tryAcquire('cam')).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(await a.renew()).toEqual([]);
    expect(Number(await redis.pttl(keys.lease('cam')))).toBeGreaterThan(200);
    // Another worker took it over (as after an expiry during a long stall).
    await redis.set(keys.lease('cam'), 'b', 'PX', 1_000);
    expect(await a.renew()).toEqual(['cam']);
    expect(lost).toEqual(['cam']);
    expect(a.owns('cam')).toBe(false);
    expect(await a.confirm(['cam'])).toEqual(new Set());
    // Releasing a lease that is not ours leaves the new owner's key alone.
    await a.release('cam');
    expect(await redis.get(keys.lease('cam'))).toBe('b');
  });

  it('confirm() renews when the local view is unsure, so a late timer does not drop owned frames', async () => {
    const a = new StreamLeases(redis, { processId: 'a', leaseMs: 400 });
    expect(await a.tryAcquire('cam')).toBe(true);
    await new Promise((r) => setTimeout(r, 320)); // past leaseMs - leaseMs/4: owns() alone says no
    expect(a.owns('cam')).toBe(false);
    expect(await a.confirm(['cam'])).toEqual(new Set(['cam']));
    expect(a.owns('cam')).toBe(true);
  });
});
