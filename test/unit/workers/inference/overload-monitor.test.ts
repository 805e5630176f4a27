import { describe, expect, it } from 'vitest';
import { OverloadMonitor, type OverloadNumbers } from '../../../../workers/inference/overload-monitor.js';

/** Two 5 fps cameras; each window of 2 s the worker serves `served` of their 20 frames. */
function harness() {
  const events: Array<['enter', OverloadNumbers] | ['leave', OverloadNumbers & { worstDropRate: number }]> = [];
  const monitor = new OverloadMonitor({ onEnter: (n) => events.push(['enter', n]), onLeave: (n) => events.push(['leave', n]) });
  const seq = new Map<string, number>([['a', 0], ['b', 0]]);
  const window = (served: number): OverloadNumbers => {
    for (const id of ['a', 'b']) {
      seq.set(id, seq.get(id)! + 10);
      monitor.offered(id, seq.get(id)!);
    }
    monitor.servedResults(served);
    return monitor.sample(2_000);
  };
  return { monitor, events, window };
}

describe('OverloadMonitor', () => {
  it('computes offered and served fps and the drop rate from sequence numbers and published results', () => {
    const h = harness();
    expect(h.window(20).offeredFps).toBe(0); // the first window sets the baseline
    const numbers = h.window(15);
    expect(numbers).toEqual({ offeredFps: 10, servedFps: 7.5, dropRate: 0.25, streams: 2 });
  });

  it('says "over capacity" once per episode, after two bad windows, and "back" once, after three good ones', () => {
    const h = harness();
    h.window(20);
    h.window(20);
    h.window(12);
    expect(h.events).toEqual([]);
    h.window(14);
    expect(h.events.map(([kind]) => kind)).toEqual(['enter']);
    expect(h.events[0]![1]).toMatchObject({ offeredFps: 10, servedFps: 7 });
    expect(h.events[0]![1].dropRate).toBeCloseTo(0.3);
    expect(h.monitor.overCapacity).toBe(true);
    for (const served of [10, 19, 20, 20, 18, 20, 20]) h.window(served);
    expect(h.events.map(([kind]) => kind)).toEqual(['enter']);
    h.window(20);
    expect(h.events.map(([kind]) => kind)).toEqual(['enter', 'leave']);
    expect(h.events[1]![1]).toMatchObject({ dropRate: 0, worstDropRate: 0.5 });
    expect(h.monitor.overCapacity).toBe(false);
  });

  it('a single bad window (a hiccup) is not an episode', () => {
    const h = harness();
    h.window(20);
    for (const served of [20, 5, 20, 5, 20]) h.window(served);
    expect(h.events).toEqual([]);
  });
});
