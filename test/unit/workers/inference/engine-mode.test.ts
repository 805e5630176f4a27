import { describe, expect, it } from 'vitest';
import { EngineModeSelector } from '../../../../workers/inference/engine-mode.js';

/** Batches of `frames` every `everyMs` from `from` to `to` (exclusive); returns the modes they ran in. */
function feed(selector: EngineModeSelector, frames: number, everyMs: number, from: number, to: number): string[] {
  const modes: string[] = [];
  for (let t = from; t < to; t += everyMs) modes.push(selector.next(frames, t));
  return modes;
}

describe('EngineModeSelector', () => {
  // Latency model: 25 ms per frame, so 40 frames/s would keep it busy all the time.
  const options = { latencyCostPerFrameMs: 25, windowMs: 2_000, upShare: 0.75, downShare: 0.45, minDwellMs: 5_000 };

  it('one 5 fps camera stays on the latency model', () => {
    const selector = new EngineModeSelector(options, 0);
    expect(new Set(feed(selector, 1, 200, 0, 60_000))).toEqual(new Set(['latency']));
    expect(selector.load(60_000)).toBeCloseTo(0.125, 1);
  });

  it('a load the latency model cannot serve switches to throughput, and back only once it is low for the dwell', () => {
    const selector = new EngineModeSelector(options, 0);
    // 8 cameras at 5 fps (40 frames/s): load 1.0.
    const heavy = feed(selector, 4, 100, 0, 10_000);
    expect(heavy[0]).toBe('latency');
    expect(heavy.at(-1)).toBe('throughput');
    // Just under the up threshold but over the down threshold (25 frames/s: 0.625): stays on throughput.
    expect(new Set(feed(selector, 1, 40, 10_000, 30_000))).toEqual(new Set(['throughput']));
    // 2 cameras (10 frames/s: 0.25): back to latency once the old window is forgotten.
    const light = feed(selector, 1, 100, 30_000, 40_000);
    expect(light.at(-1)).toBe('latency');
  });

  it('a load between the thresholds does not flap', () => {
    const selector = new EngineModeSelector(options, 0);
    const modes = feed(selector, 1, 40, 0, 60_000); // 0.625
    expect(new Set(modes)).toEqual(new Set(['latency']));
  });

  it('does not switch back before the dwell even when the load drops at once', () => {
    const selector = new EngineModeSelector(options, 0);
    selector.overflow(1_000);
    expect(selector.mode).toBe('throughput');
    expect(selector.next(1, 3_000)).toBe('throughput');
    expect(selector.next(1, 6_001)).toBe('latency');
  });

  it('follows the measured cost of the latency model', () => {
    const selector = new EngineModeSelector(options, 0);
    feed(selector, 1, 50, 0, 2_000); // 20 frames/s at 25 ms: 0.5
    for (let i = 0; i < 50; i += 1) selector.measured(2, 80); // 40 ms per frame
    expect(selector.load(1_999)).toBeCloseTo(0.8, 1);
    expect(() => new EngineModeSelector({ latencyCostPerFrameMs: 0 }, 0)).toThrow(RangeError);
  });
});
