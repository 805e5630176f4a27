import { describe, expect, it } from 'vitest';
import { AdaptiveEngine } from '../../../../workers/inference/adaptive-engine.js';
import type { EngineFrame, EngineResult, PoseInference } from '../../../../workers/inference/pose-engine.js';

/** An engine whose calls the test finishes by hand; like PoseEngine it rejects beyond its capacity. */
function fakeEngine(requests: number, costMs: number) {
  const pending: Array<() => void> = [];
  let busy = 0;
  const engine: PoseInference = {
    requests,
    capacity: requests * 2,
    maxBatch: 4,
    precision: 'f32',
    device: 'CPU',
    infer: (frames) => {
      if (busy >= engine.capacity) return Promise.reject(new Error('PS_ENGINE_BUSY'));
      busy += 1;
      return new Promise<EngineResult>((resolve) =>
        pending.push(() => {
          busy -= 1;
          resolve({ persons: frames.map(() => []), inferMs: costMs * frames.length, postMs: 0 });
        }),
      );
    },
    dispose: async () => undefined,
  };
  return { engine, pending, busy: () => busy };
}

const frame: EngineFrame = { pixels: new Uint8Array(12), width: 2, height: 2, sourceWidth: 2, sourceHeight: 2 };

async function adaptive(clock: { now: number }) {
  const latency = fakeEngine(1, 25);
  const throughput = fakeEngine(2, 40);
  // create() probes the latency model: finish those calls as they come.
  const probing = setInterval(() => [latency, throughput].forEach((f) => f.pending.splice(0).forEach((finish) => finish())), 1);
  const switches: string[] = [];
  const engine = await AdaptiveEngine.create({ latency: latency.engine, throughput: throughput.engine, probe: frame, now: () => clock.now, onSwitch: (mode) => switches.push(mode) });
  clearInterval(probing);
  return { engine, latency, throughput, switches };
}

describe('AdaptiveEngine', () => {
  it('requests follow the mode; capacity and mostRequests are the throughput model’s', async () => {
    const { engine } = await adaptive({ now: 0 });
    expect(engine.mode).toBe('latency');
    expect(engine.requests).toBe(1);
    expect(engine.mostRequests).toBe(2);
    expect(engine.capacity).toBe(4);
  });

  it('never rejects while the calls in flight stay within its capacity, whichever model they land on', async () => {
    const clock = { now: 0 };
    const { engine, latency, throughput, switches } = await adaptive(clock);
    const calls = Array.from({ length: engine.capacity }, () => engine.infer([frame, frame]));
    // The latency model took what it holds (one running, one waiting), the rest overflowed to throughput.
    expect(latency.busy()).toBe(2);
    expect(throughput.busy()).toBe(2);
    expect(switches).toEqual(['throughput']);
    [latency, throughput].forEach((f) => f.pending.splice(0).forEach((finish) => finish()));
    await expect(Promise.all(calls)).resolves.toHaveLength(4);
    // In throughput mode a full capacity of calls fits the throughput model alone.
    const more = Array.from({ length: engine.capacity }, () => engine.infer([frame]));
    expect(throughput.busy()).toBe(4);
    throughput.pending.splice(0).forEach((finish) => finish());
    await expect(Promise.all(more)).resolves.toHaveLength(4);
  });

  it('a light load stays on the latency model', async () => {
    const clock = { now: 0 };
    const { engine, latency, switches } = await adaptive(clock);
    for (let i = 0; i < 50; i += 1) {
      clock.now += 200;
      const call = engine.infer([frame]);
      latency.pending.splice(0).forEach((finish) => finish());
      await call;
    }
    expect(engine.mode).toBe('latency');
    expect(switches).toEqual([]);
  });
});
