import { describe, expect, it } from 'vitest';
import { BusyClock } from '../../../../workers/inference/busy-clock.js';

describe('BusyClock', () => {
  it('reports the share of time with work in flight, overlapping batches counted once', () => {
    let t = 0;
    const clock = new BusyClock(() => t);
    clock.start();
    t = 10;
    clock.start();
    t = 30;
    clock.end();
    t = 40;
    clock.end();
    t = 100;
    expect(clock.sample()).toBeCloseTo(0.4);
    clock.start();
    t = 150;
    expect(clock.sample()).toBeCloseTo(1);
  });
});
