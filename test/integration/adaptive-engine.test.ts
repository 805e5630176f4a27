/**
 * model.hint ADAPTIVE on the real runtime: the shared FP32 model compiled for latency and for throughput behind one
 * AdaptiveEngine. A lone frame runs on the latency model, a flood switches to the throughput model, both find the
 * same persons, and the switch is reported.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetPath } from '../../pipeline/assets.js';
import { readFittedImage } from '../../pipeline/image/read-image.js';
import { AdaptiveEngine } from '../../workers/inference/adaptive-engine.js';
import { PoseEngine, blankFrame, type EngineFrame } from '../../workers/inference/pose-engine.js';
import { skipWithout } from '../support/assets.js';

describe.skipIf(skipWithout('busImage', 'fp32Onnx'))('AdaptiveEngine', () => {
  let engine: AdaptiveEngine;
  let bus: EngineFrame;
  const switches: string[] = [];

  beforeAll(async () => {
    const image = await readFittedImage(assetPath('busImage'));
    bus = { pixels: image.pixels, width: image.width, height: image.height, sourceWidth: image.sourceWidth, sourceHeight: image.sourceHeight };
    const compile = (hint: 'LATENCY' | 'THROUGHPUT', inferRequests?: number) =>
      PoseEngine.create({ modelPath: assetPath('fp32Onnx'), maxBatch: 2, inputSize: 640, ...(inferRequests ? { inferRequests } : {}), settings: { openvino: { hint } } });
    const [latency, throughput] = [await compile('LATENCY', 1), await compile('THROUGHPUT', 2)];
    engine = await AdaptiveEngine.create({
      latency,
      throughput,
      probe: blankFrame('rgb24', 640),
      // Short windows so the test needs few inferences.
      mode: { windowMs: 1_000, minDwellMs: 500 },
      onSwitch: (mode) => switches.push(mode),
    });
  }, 120_000);

  afterAll(async () => engine?.dispose());

  it('starts on the latency model with one request', () => {
    expect(engine.mode).toBe('latency');
    expect(engine.requests).toBe(1);
    expect(engine.capacity).toBeGreaterThanOrEqual(2);
  });

  it('a flood of batches switches to the throughput model; both models find the same persons', async () => {
    const alone = await engine.infer([bus]);
    expect(engine.mode).toBe('latency');
    // More batches at once than the latency model holds (one running, one waiting).
    const flood = await Promise.all(Array.from({ length: engine.capacity }, () => engine.infer([bus, bus])));
    expect(engine.mode).toBe('throughput');
    expect(switches).toEqual(['throughput']);
    expect(engine.requests).toBe(2);
    const boxes = (persons: { box: number[] }[]) => persons.map((p) => p.box.map(Math.round)).sort((a, b) => a[0]! - b[0]!);
    expect(alone.persons[0]!.length).toBeGreaterThanOrEqual(2);
    for (const result of flood) {
      for (const persons of result.persons) {
        expect(persons).toHaveLength(alone.persons[0]!.length);
        boxes(persons).forEach((box, i) => box.forEach((v, k) => expect(Math.abs(v - boxes(alone.persons[0]!)[i]![k]!)).toBeLessThanOrEqual(3)));
      }
    }
  }, 120_000);

  it('back to the latency model once the load is low for the dwell', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await engine.infer([bus]);
    expect(engine.mode).toBe('latency');
    expect(switches).toEqual(['throughput', 'latency']);
  }, 60_000);
});
