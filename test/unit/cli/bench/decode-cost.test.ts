import { describe, expect, it } from 'vitest';
import { decodeInclusiveLimit, formatDecodeLimit } from '../../../../cli/bench/decode-cost.js';
import { processCpuSeconds } from '../../../../cli/bench/processes.js';

describe('decode-inclusive limit (bench pipeline, issue 14)', () => {
  it('is 1 / (1/engine_fps + decode CPU s per frame / cores)', () => {
    // 40 fps engine, 5 ms of decoder CPU per frame on 2 cores: 1 / (0.025 + 0.0025) = 36.36 results/s.
    expect(decodeInclusiveLimit(40, 0.005, 2)).toBeCloseTo(36.3636, 3);
    expect(decodeInclusiveLimit(40, 0, 2)).toBe(40);
    expect(decodeInclusiveLimit(40, 0.005, 4)).toBeGreaterThan(decodeInclusiveLimit(40, 0.005, 2));
  });

  it('prints the CPU per frame, the cores, the limit and the ratio with its target', () => {
    const text = formatDecodeLimit({ decode_cpu_ms_per_frame: 5.25, cores: 2, decode_inclusive_limit: 36.2, limit_ratio: 0.931 });
    expect(text).toContain('5.25 ms CPU per frame');
    expect(text).toContain('on 2 cores');
    expect(text).toContain('36.20 results/s');
    expect(text).toContain('ratio pipeline/limit = 0.931 (target >= 0.9)');
  });

  it('reads a running process\'s CPU time from /proc, as getrusage counts it', () => {
    const total = () => {
      const usage = process.cpuUsage();
      return (usage.user + usage.system) / 1e6;
    };
    const [procBefore, rusageBefore] = [processCpuSeconds(process.pid), total()];
    while (total() - rusageBefore < 0.2); // 200 ms of CPU, however loaded the machine
    const [procSpent, rusageSpent] = [processCpuSeconds(process.pid) - procBefore, total() - rusageBefore];
    expect(Math.abs(procSpent - rusageSpent)).toBeLessThan(0.05);
  });
});
