import { describe, expect, it } from 'vitest';
import { FrameScheduler } from '../../../../workers/inference/frame-scheduler.js';

interface Item { stream: string; n: number; eos?: boolean }

const scheduler = () => new FrameScheduler<Item>({ streamOf: (i) => i.stream, isInferable: (i) => !i.eos });
const label = (batch: Item[]) => batch.map((i) => `${i.stream}${i.eos ? '!' : i.n}`);

describe('FrameScheduler', () => {
  it('takes one frame per stream per pass, each stream in order, rotating where the next batch starts', () => {
    const s = scheduler();
    for (let n = 0; n < 3; n += 1) for (const stream of ['a', 'b', 'c']) s.add({ stream, n });
    expect(label(s.take(2))).toEqual(['a0', 'b0']);
    expect(label(s.take(2))).toEqual(['c0', 'a1']);
    expect(label(s.take(4))).toEqual(['b1', 'c1', 'a2', 'b2']);
    expect(label(s.take(4))).toEqual(['c2']);
    expect(s.size).toBe(0);
  });

  it('a flooded stream gets at most a fair share while others wait, and the rest when they do not', () => {
    const s = scheduler();
    for (let n = 0; n < 20; n += 1) s.add({ stream: 'flood', n });
    s.add({ stream: 'quiet', n: 0 });
    const first = s.take(4);
    expect(label(first)).toEqual(['flood0', 'quiet0', 'flood1', 'flood2']);
    expect(label(s.take(4))).toEqual(['flood3', 'flood4', 'flood5', 'flood6']);
  });

  it('past capacity every stream is served at the same rate (none starves)', () => {
    // 8 cameras offer a frame each per tick; the box infers 4 frames per tick (2 batches of 2).
    const s = scheduler();
    const served = new Map<string, number>();
    const streams = Array.from({ length: 8 }, (_, i) => `cam${i}`);
    for (let tick = 0; tick < 100; tick += 1) {
      for (const stream of streams) s.add({ stream, n: tick });
      for (const batch of [s.take(2), s.take(2)]) for (const item of batch) served.set(item.stream, (served.get(item.stream) ?? 0) + 1);
    }
    const rates = streams.map((id) => served.get(id) ?? 0);
    expect(Math.min(...rates)).toBe(Math.max(...rates));
    expect(rates.reduce((a, b) => a + b, 0)).toBe(400);
  });

  it('end-of-stream markers take no slot and keep their place in their stream', () => {
    const s = scheduler();
    s.add({ stream: 'a', n: 0 });
    s.add({ stream: 'a', n: 1, eos: true });
    s.add({ stream: 'b', n: 0, eos: true });
    s.add({ stream: 'b', n: 1 });
    s.add({ stream: 'c', n: 0 });
    expect(s.inferable).toBe(3);
    expect(label(s.take(1))).toEqual(['a0', 'a!', 'b!']);
    expect(label(s.take(2))).toEqual(['b1', 'c0']);
    expect(s.size).toBe(0);
  });

  it('remove() hands back what waits for a stream', () => {
    const s = scheduler();
    s.add({ stream: 'a', n: 0 });
    s.add({ stream: 'b', n: 0 });
    s.add({ stream: 'a', n: 1 });
    expect(label(s.remove('a'))).toEqual(['a0', 'a1']);
    expect(s.size).toBe(1);
    expect(label(s.take(4))).toEqual(['b0']);
  });
});
