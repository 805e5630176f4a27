import { describe, expect, it } from 'vitest';
import { StreamStats } from '../../../gateway/stream-stats.js';
import type { PoseResult } from '../../../pipeline/wire/v1.js';

const pose = (seq: number, captureTs: number): PoseResult => ({
  v: 1, kind: 'pose', streamId: 's', seq, captureTs, sourceWidth: 640, sourceHeight: 360, persons: [],
  timings: { decodeMs: 1, queueMs: 1, inferMs: 1, postMs: 1 }, worker: 'w', publishedTs: captureTs + 4,
});

describe('StreamStats', () => {
  it('computes rate, median latency and seq gaps', () => {
    const stats = new StreamStats();
    let gaps = 0;
    for (let i = 0; i < 40; i++) {
      const seq = i < 20 ? i : i + 5; // 5 frames lost between 19 and 25
      gaps += stats.record(pose(seq, 1000 + i * 100), 1000 + i * 100 + 30);
    }
    const snap = stats.snapshot('s', 1000 + 39 * 100 + 30);
    expect(gaps).toBe(5);
    expect(snap.drops).toBe(5);
    expect(snap.fps).toBeGreaterThan(9);
    expect(snap.fps).toBeLessThan(11);
    expect(snap.latencyMs).toBe(30);
    expect(snap.lastSeq).toBe(44);
  });

  it('treats a source restart (seq back to 0) as a new run, not a gap', () => {
    const stats = new StreamStats();
    stats.record(pose(100, 0), 10);
    expect(stats.record(pose(0, 20), 30)).toBe(0);
    expect(stats.snapshot('s', 30).drops).toBe(0);
  });
});
