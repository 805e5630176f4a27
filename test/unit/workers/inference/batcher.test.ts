import { describe, expect, it } from 'vitest';
import { Batcher } from '../../../../workers/inference/batcher.js';

interface Item { id: string; eos?: boolean }

/** A batcher whose timers and batch completions the test drives by hand. */
function harness(options: { batchSize: number; maxWaitMs?: number; maxInFlight: number | (() => number); maxQueuedFull?: number }) {
  const timers: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
  const runs: Array<{ batch: string[]; finish: () => void; fail: (e: Error) => void; inferred: () => void }> = [];
  const errors: unknown[] = [];
  const batcher = new Batcher<Item>({
    batchSize: options.batchSize,
    maxWaitMs: options.maxWaitMs ?? 0,
    maxInFlight: options.maxInFlight,
    ...(options.maxQueuedFull === undefined ? {} : { maxQueuedFull: options.maxQueuedFull }),
    streamOf: (item) => item.id[0]!,
    isInferable: (item) => !item.eos,
    run: (batch, inferred) =>
      new Promise<void>((resolve, reject) => {
        runs.push({ batch: batch.map((i) => i.id), finish: resolve, fail: reject, inferred });
      }),
    onError: (error) => errors.push(error),
    setTimer: (fn, ms) => {
      const timer = { fn, ms, cleared: false };
      timers.push(timer);
      return timer;
    },
    clearTimer: (handle) => {
      (handle as { cleared: boolean }).cleared = true;
    },
  });
  const fireTimers = () => timers.filter((t) => !t.cleared).forEach((t) => { t.cleared = true; t.fn(); });
  const settle = () => new Promise((r) => setTimeout(r, 0));
  return { batcher, runs, timers, errors, fireTimers, settle };
}

describe('Batcher', () => {
  it('a batch whose inference is over frees its request while it publishes; at most maxInFlight wait to publish', async () => {
    const h = harness({ batchSize: 1, maxInFlight: 1 });
    for (const id of ['a0', 'b0', 'c0', 'd0']) h.batcher.add({ id });
    expect(h.runs.map((r) => r.batch)).toEqual([['a0']]);
    h.runs[0]!.inferred();
    await h.settle();
    // a0 publishes, b0 infers.
    expect(h.runs.map((r) => r.batch)).toEqual([['a0'], ['b0']]);
    h.runs[1]!.inferred();
    h.runs[1]!.inferred(); // twice is once
    await h.settle();
    // Two batches wait to publish (a0, b0): c0 waits for a0 to publish.
    expect(h.runs).toHaveLength(2);
    h.runs[0]!.finish();
    await h.settle();
    expect(h.runs.map((r) => r.batch)[2]).toEqual(['c0']);
    // A batch that settles without calling inferred frees its slot too.
    h.runs[1]!.finish();
    h.runs[2]!.finish();
    await h.settle();
    expect(h.runs.map((r) => r.batch)[3]).toEqual(['d0']);
  });

  it('maxInFlight as a function is read before each dispatch (an engine whose requests follow its mode)', async () => {
    let limit = 1;
    const h = harness({ batchSize: 2, maxInFlight: () => limit });
    h.batcher.add({ id: 'a0' });
    h.batcher.add({ id: 'b0' });
    expect(h.runs.map((r) => r.batch)).toEqual([['a0']]);
    limit = 2;
    h.batcher.add({ id: 'c0' });
    expect(h.runs.map((r) => r.batch)).toEqual([['a0'], ['b0', 'c0']]);
    limit = 1;
    h.runs[0]!.finish();
    await h.settle();
    h.batcher.add({ id: 'a1' });
    // One batch still runs and the limit is 1 again: a1 waits.
    expect(h.runs).toHaveLength(2);
    h.runs[1]!.finish();
    await h.settle();
    expect(h.runs.map((r) => r.batch)[2]).toEqual(['a1']);
  });

  it('maxWaitMs 0: what is ready leaves at once while a slot is free; while all are busy the next batch fills', async () => {
    const h = harness({ batchSize: 3, maxInFlight: 1 });
    h.batcher.add({ id: 'a0' });
    expect(h.runs.map((r) => r.batch)).toEqual([['a0']]);
    for (const id of ['b0', 'a1', 'c0', 'b1']) h.batcher.add({ id });
    expect(h.runs).toHaveLength(1);
    h.runs[0]!.finish();
    await h.settle();
    // Round-robin across streams: one of each before a second of any.
    expect(h.runs.map((r) => r.batch)).toEqual([['a0'], ['b0', 'a1', 'c0']]);
    expect(h.timers).toHaveLength(0);
  });

  it('maxWaitMs > 0: a full batch leaves at once, a partial one after maxWaitMs', () => {
    const h = harness({ batchSize: 3, maxWaitMs: 7, maxInFlight: 2 });
    h.batcher.add({ id: 'a0' });
    h.batcher.add({ id: 'b0' });
    expect(h.runs).toHaveLength(0);
    h.batcher.add({ id: 'a1' });
    expect(h.runs.map((r) => r.batch)).toEqual([['a0', 'b0', 'a1']]);
    expect(h.timers[0]!.cleared).toBe(true);
    h.batcher.add({ id: 'a2' });
    h.batcher.add({ id: 'a3' });
    expect(h.timers.filter((t) => !t.cleared).map((t) => t.ms)).toEqual([7]);
    h.fireTimers();
    expect(h.runs.map((r) => r.batch)).toEqual([['a0', 'b0', 'a1'], ['a2', 'a3']]);
  });

  it('maxQueuedFull: while every request is busy a full batch may wait in the engine, a partial one may not', async () => {
    const h = harness({ batchSize: 2, maxInFlight: 1, maxQueuedFull: 1 });
    expect(h.batcher.capacity).toBe(4);
    h.batcher.add({ id: 'a0' });
    h.batcher.add({ id: 'b0' });
    expect(h.runs.map((r) => r.batch)).toEqual([['a0']]);
    h.batcher.add({ id: 'c0' });
    expect(h.runs.map((r) => r.batch)).toEqual([['a0'], ['b0', 'c0']]);
    h.batcher.add({ id: 'a1' });
    h.batcher.add({ id: 'b1' });
    expect(h.runs).toHaveLength(2);
    h.runs[0]!.finish();
    await h.settle();
    expect(h.runs.map((r) => r.batch)).toEqual([['a0'], ['b0', 'c0'], ['a1', 'b1']]);
  });

  it('never runs more than maxInFlight batches; the next starts when one finishes, in order', async () => {
    const h = harness({ batchSize: 1, maxInFlight: 2 });
    for (const id of ['x', 'y', 'z', 'w']) h.batcher.add({ id });
    expect(h.runs.map((r) => r.batch)).toEqual([['x'], ['y']]);
    expect(h.batcher.inFlight).toBe(2);
    h.runs[1]!.finish();
    await h.settle();
    expect(h.runs.map((r) => r.batch)).toEqual([['x'], ['y'], ['z']]);
    h.runs[0]!.finish();
    await h.settle();
    expect(h.runs.map((r) => r.batch)).toEqual([['x'], ['y'], ['z'], ['w']]);
  });

  it('bounds what the process holds: capacity = maxInFlight * batchSize - held', async () => {
    const h = harness({ batchSize: 2, maxInFlight: 2 });
    expect(h.batcher.capacity).toBe(4);
    for (const id of ['a', 'b', 'c']) h.batcher.add({ id });
    expect(h.batcher.size).toBe(3);
    expect(h.batcher.capacity).toBe(1);
    h.batcher.add({ id: 'd' });
    expect(h.batcher.capacity).toBe(0);
    let woke = false;
    const waiting = h.batcher.whenCapacity().then(() => { woke = true; });
    await h.settle();
    expect(woke).toBe(false);
    h.runs[0]!.finish();
    await waiting;
    expect(woke).toBe(true);
    // a finished; c and d left together in its slot.
    expect(h.runs.map((r) => r.batch)).toEqual([['a'], ['b'], ['c', 'd']]);
    expect(h.batcher.capacity).toBe(1);
    h.batcher.add({ id: 'e' });
    expect(h.batcher.size).toBe(4);
  });

  it('an end-of-stream marker leaves with its stream\'s frame before it and takes no inference slot', async () => {
    const h = harness({ batchSize: 2, maxInFlight: 1 });
    h.batcher.add({ id: 'x0' });
    for (const item of [{ id: 'a0' }, { id: 'a-eos', eos: true }, { id: 'b0' }, { id: 'b1' }]) h.batcher.add(item);
    h.runs[0]!.finish();
    await h.settle();
    expect(h.runs.map((r) => r.batch)).toEqual([['x0'], ['a0', 'a-eos', 'b0']]);
    expect(h.batcher.size).toBe(4);
  });

  it('a failing run is reported and frees its slot', async () => {
    const h = harness({ batchSize: 1, maxInFlight: 1 });
    h.batcher.add({ id: 'a' });
    h.batcher.add({ id: 'b' });
    h.runs[0]!.fail(new Error('boom'));
    await h.settle();
    expect(h.errors).toHaveLength(1);
    expect(h.runs.map((r) => r.batch)).toEqual([['a'], ['b']]);
  });

  it('drain flushes a held partial batch and waits for every batch', async () => {
    const h = harness({ batchSize: 8, maxWaitMs: 50, maxInFlight: 1 });
    h.batcher.add({ id: 'a' });
    let drained = false;
    const draining = h.batcher.drain().then(() => { drained = true; });
    expect(h.runs.map((r) => r.batch)).toEqual([['a']]);
    await h.settle();
    expect(drained).toBe(false);
    h.runs[0]!.finish();
    await draining;
    expect(h.batcher.size).toBe(0);
  });
});
