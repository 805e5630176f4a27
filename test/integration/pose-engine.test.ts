/**
 * PoseEngine on the real runtime: batches, pooled buffers (pad reuse across frame sizes), bounds and errors, and
 * the shared INT8 reference IR (static batch 1, input `x`) finding the two men walking in front of the bus.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { PosestreamError } from '../../pipeline/errors.js';
import { assetPath, defaultModelPaths } from '../../pipeline/assets.js';
import { rgbToI420 } from '../../pipeline/image/i420.js';
import { readFittedImage, type FittedImage } from '../../pipeline/image/read-image.js';
import type { Person } from '../../pipeline/wire/v1.js';
import { PoseEngine } from '../../workers/inference/pose-engine.js';
import { skipWithout } from '../support/assets.js';
import { dynamicPoseModel } from '../support/dynamic-model.js';

function iou(a: Person['box'], b: number[]): number {
  const w = Math.max(0, Math.min(a[2], b[2]!) - Math.max(a[0], b[0]!));
  const h = Math.max(0, Math.min(a[3], b[3]!) - Math.max(a[1], b[1]!));
  const inter = w * h;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter);
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PosestreamError);
    return (error as PosestreamError).code;
  }
  throw new Error('expected a rejection');
}

// The two men in bus.jpg (source pixels), as models/ predict finds them with the FP32 IR.
const TWO_MEN = [[48, 397, 244, 905], [221, 406, 346, 857]];

describe.skipIf(skipWithout('busImage', 'zidaneImage', 'int8ReferenceIr'))('PoseEngine', () => {
  let bus: FittedImage;
  let zidane: FittedImage;

  beforeAll(async () => {
    [bus, zidane] = await Promise.all([readFittedImage(assetPath('busImage')), readFittedImage(assetPath('zidaneImage'))]);
  });

  it('runs the INT8 reference IR unchanged and finds the two men in bus.jpg', async () => {
    const engine = await PoseEngine.create({ modelPath: assetPath('int8ReferenceIr'), settings: { openvino: { hint: 'LATENCY' } }, inferRequests: 1 });
    expect(engine.maxBatch).toBe(1);
    expect(engine.requests).toBe(1);
    expect(engine.precision).toMatch(/^(f32|bf16|f16)$/);
    const { persons, inferMs, postMs } = await engine.infer([bus]);
    expect(inferMs).toBeGreaterThan(0);
    expect(postMs).toBeGreaterThanOrEqual(0);
    for (const man of TWO_MEN) {
      const match = persons[0]!.find((p) => iou(p.box, man) > 0.8);
      expect(match, `no person near ${man.join(',')}`).toBeDefined();
      expect(match!.score).toBeGreaterThan(0.5);
      expect(match!.keypoints.filter((k) => k[2] > 0.5).length).toBeGreaterThanOrEqual(10);
    }
    await expect(code(engine.infer([bus, bus]))).resolves.toBe('PS_ENGINE_BAD_BATCH');
    await engine.dispose();
    await engine.dispose();
    await expect(code(engine.infer([bus]))).resolves.toBe('PS_ENGINE_DISPOSED');
  });

  it('a batch of frames of different sizes equals single runs, also after buffers are reused', async () => {
    const engine = await PoseEngine.create({ modelPath: defaultModelPaths.fp32, precision: 'f32', maxBatch: 2, inferRequests: 1 });
    expect(engine).toMatchObject({ maxBatch: 2, requests: 1, capacity: 2, precision: 'f32', device: 'CPU' });
    const single = [(await engine.infer([bus])).persons[0]!, (await engine.infer([zidane])).persons[0]!];
    // Positions swap sizes between calls, so the skip-the-pad shortcut must notice the change.
    const batched = (await engine.infer([bus, zidane])).persons;
    const swapped = (await engine.infer([zidane, bus])).persons;
    const again = (await engine.infer([bus, zidane])).persons;
    // Batched and single runs may differ by float rounding in the kernels, never by more than a hair.
    const same = (ours: Person[], reference: Person[]): void => {
      expect(ours.length).toBe(reference.length);
      ours.forEach((p, i) => p.box.forEach((v, k) => expect(Math.abs(v - reference[i]!.box[k]!)).toBeLessThan(0.05)));
    };
    expect(single[0]!.length).toBe(4);
    expect(single[1]!.length).toBe(2);
    for (const result of [batched, again]) {
      same(result[0]!, single[0]!);
      same(result[1]!, single[1]!);
    }
    same(swapped[1]!, single[0]!);
    same(swapped[0]!, single[1]!);
    await engine.dispose();
  });

  it('through I420 (letterboxed in YUV, colour converted in the graph) finds the same persons as through RGB', async () => {
    const rgb = await PoseEngine.create({ modelPath: defaultModelPaths.fp32, precision: 'f32', inferRequests: 1 });
    const yuv = await PoseEngine.create({ modelPath: defaultModelPaths.fp32, precision: 'f32', maxBatch: 2, inferRequests: 1, inputFormat: 'i420' });
    expect(yuv.inputFormat).toBe('i420');
    const asI420 = (image: FittedImage): FittedImage & { format: 'i420' } => ({ ...image, pixels: rgbToI420(image.pixels, image.width, image.height), format: 'i420' });
    const reference = [(await rgb.infer([bus])).persons[0]!, (await rgb.infer([zidane])).persons[0]!];
    const batched = (await yuv.infer([asI420(bus), asI420(zidane)])).persons;
    // An RGB frame given to the I420 engine (an ingest configured for rgb) is converted, with the same result.
    const converted = (await yuv.infer([zidane, asI420(bus)])).persons;
    for (const [ours, theirs] of [[batched[0]!, reference[0]!], [batched[1]!, reference[1]!], [converted[1]!, reference[0]!], [converted[0]!, reference[1]!]] as const) {
      expect(ours.length).toBe(theirs.length);
      for (const person of theirs) {
        const match = ours.find((p) => iou(p.box, person.box) > 0.9);
        expect(match, `no I420 person near ${person.box.join(',')}`).toBeDefined();
        expect(Math.abs(match!.score - person.score)).toBeLessThan(0.05);
      }
    }
    for (const man of TWO_MEN) expect(batched[0]!.some((p) => iou(p.box, man) > 0.8), `no person near ${man.join(',')}`).toBe(true);
    await Promise.all([rgb.dispose(), yuv.dispose()]);
  });

  it('is bounded: beyond capacity infer() rejects PS_ENGINE_BUSY (retryable); bad frames are named', async () => {
    const engine = await PoseEngine.create({ modelPath: assetPath('int8ReferenceIr'), inferRequests: 1 });
    expect(engine.capacity).toBe(2);
    const running = [engine.infer([bus]), engine.infer([zidane])];
    expect(engine.inFlight).toBe(2);
    let busy: unknown;
    await engine.infer([bus]).catch((error: unknown) => (busy = error));
    expect(busy).toBeInstanceOf(PosestreamError);
    expect(busy).toMatchObject({ code: 'PS_ENGINE_BUSY', retryable: true });
    const results = await Promise.all(running);
    expect(results[0]!.persons[0]!.length).toBeGreaterThanOrEqual(2);
    expect(results[1]!.persons[0]!.length).toBeGreaterThanOrEqual(2);
    expect(engine.inFlight).toBe(0);
    const tooBig = { ...bus, width: 700 };
    await expect(code(engine.infer([tooBig]))).resolves.toBe('PS_ENGINE_BAD_FRAME');
    const short = { ...bus, pixels: bus.pixels.subarray(0, 100) };
    await expect(code(engine.infer([short]))).resolves.toBe('PS_ENGINE_BAD_FRAME');
    expect(engine.inFlight).toBe(0);
    // Still serving after bad frames.
    expect((await engine.infer([zidane])).persons[0]!.length).toBeGreaterThanOrEqual(2);
    await engine.dispose();
  });

  it('loads a dynamic=True export ([?,3,?,?]) reshaped to the configured input size and finds the two men', async () => {
    const engine = await PoseEngine.create({ modelPath: dynamicPoseModel(), precision: 'f32', inputSize: 640, inferRequests: 1 });
    expect(engine.inputSize).toBe(640);
    const { persons } = await engine.infer([bus]);
    for (const man of TWO_MEN) expect(persons[0]!.some((p) => iou(p.box, man) > 0.8), `no person near ${man.join(',')}`).toBe(true);
    await engine.dispose();
    // This export keeps the anchor grid of 640 in its graph: another size is refused with the reason.
    const error = await PoseEngine.create({ modelPath: dynamicPoseModel(), inputSize: 320 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PS_OV_RESHAPE_FAILED', message: expect.stringMatching(/cannot run at 320x320 .*set model.inputSize/) });
  });

  it('keeps a fixed-size model at its own size and refuses another model.inputSize with what to do', async () => {
    const engine = await PoseEngine.create({ modelPath: assetPath('int8ReferenceIr'), inferRequests: 1 });
    expect(engine.inputSize).toBe(640);
    await engine.dispose();
    const error = await PoseEngine.create({ modelPath: assetPath('int8ReferenceIr'), inputSize: 320 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PS_OV_INPUT_SIZE_MISMATCH', message: expect.stringMatching(/fixed 640x640 input .* set model.inputSize to 640/) });
  });

  it('names the problem for a missing model, a non-pose file and an unknown device', async () => {
    await expect(code(PoseEngine.create({ modelPath: '/nonexistent/pose.xml' }))).resolves.toBe('PS_OV_READ_FAILED');
    await expect(code(PoseEngine.create({ modelPath: defaultModelPaths.fp32, device: 'NOPE' }))).resolves.toBe('PS_OV_UNKNOWN_DEVICE');
    await expect(code(PoseEngine.create({ modelPath: defaultModelPaths.fp32, maxBatch: 0 }))).resolves.toBe('PS_ENGINE_BAD_OPTION');
  });
});
