import { describe, expect, it } from 'vitest';
import { memorySettingsOf } from '../../../../cli/commands/check-config.js';
import { configSchema } from '../../../../config/schema.js';
import { estimateRedisMemory, parseInfo, resultEntryBytes } from '../../../../pipeline/redis/memory.js';

const MB = 1024 * 1024;

const settingsOf = memorySettingsOf;

describe('estimateRedisMemory', () => {
  const defaults = configSchema.parse({ model: { path: 'm.xml' } });

  it('counts frames at the queue bound: a lossless stream queues 32 frames, a live one 4', () => {
    const estimate = estimateRedisMemory([{ id: 'a', mode: 'live' }, { id: 'b', mode: 'lossless' }], settingsOf(defaults));
    const [live, lossless] = estimate.streams;
    expect(live!.frames).toBe(4 * estimate.frameBytes);
    expect(lossless!.frames).toBe(32 * estimate.frameBytes);
    // 640 x 360 I420 (the default format) plus metadata; RGB is twice the pixels.
    expect(estimate.frameBytes).toBeGreaterThan(640 * 360 * 1.5);
    expect(estimate.frameBytes).toBeLessThan(640 * 360 * 1.6);
    const rgb = estimateRedisMemory([{ id: 'a', mode: 'live' }], { ...settingsOf(defaults), inputFormat: 'rgb' });
    expect(rgb.frameBytes).toBeGreaterThan(640 * 360 * 3);
    expect(estimate.total).toBeCloseTo(estimate.base + live!.total + lossless!.total, 6);
  });

  it('bounds results by the smaller of count and age', () => {
    const settings = { ...settingsOf(defaults), resultsRetention: 10_000, resultsMaxAgeSec: 60 };
    const [slow, fast] = estimateRedisMemory([{ id: 's', mode: 'live', fps: 5 }, { id: 'f', mode: 'live' }], settings).streams;
    expect(slow!.results).toBe(300 * resultEntryBytes(2));
    expect(fast!.results).toBe(1_800 * resultEntryBytes(2));
  });

  it('stores a result with two tracked persons in about 2 KB (rounded), not the 5.7-8.1 KB of full doubles', () => {
    expect(resultEntryBytes(2)).toBeLessThan(2.5 * 1024);
    expect(resultEntryBytes(0)).toBeLessThan(400);
  });

  it('the documented claim: the defaults fit 16 live streams in 256 MB (with 10% headroom)', () => {
    const streams = Array.from({ length: 16 }, (_, i) => ({ id: `cam${i}`, mode: 'live' as const }));
    expect(estimateRedisMemory(streams, settingsOf(defaults)).total).toBeLessThan(0.9 * 256 * MB);
  });
});

describe('parseInfo', () => {
  it('reads key:value lines and skips sections', () => {
    const info = parseInfo('# Memory\r\nused_memory:1048576\r\nmaxmemory:0\r\n');
    expect(info.get('used_memory')).toBe('1048576');
    expect(info.get('maxmemory')).toBe('0');
  });
});
