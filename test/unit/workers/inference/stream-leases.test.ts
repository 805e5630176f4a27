import { describe, expect, it } from 'vitest';
import { planLeases } from '../../../../workers/inference/stream-leases.js';

describe('planLeases', () => {
  it('takes up to ceil(streams / workers)', () => {
    expect(planLeases({ streams: 4, workers: 3, held: [] })).toEqual({ room: 2, release: [] });
    expect(planLeases({ streams: 1, workers: 2, held: [] })).toEqual({ room: 1, release: [] });
    expect(planLeases({ streams: 3, workers: 1, held: ['a'] })).toEqual({ room: 2, release: [] });
  });

  it('hands back extras when more workers are alive', () => {
    expect(planLeases({ streams: 4, workers: 2, held: ['d', 'a', 'c'] })).toEqual({ room: 0, release: ['d'] });
  });

  it('treats zero live workers as one (itself)', () => {
    expect(planLeases({ streams: 2, workers: 0, held: [] }).room).toBe(2);
  });
});
