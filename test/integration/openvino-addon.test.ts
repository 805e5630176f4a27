/**
 * The OpenVINO addon against the real runtime and the real shared YOLOv8-pose models.
 * Needs `npm run build:addon`; a missing addon fails the file with PS_OV_ADDON_NOT_BUILT.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PosestreamError } from '../../pipeline/errors.js';
import { repoRoot } from '../../pipeline/assets.js';
import { assetPath, skipWithout } from '../support/assets.js';
import {
  AsyncInferQueue,
  Core,
  Tensor,
  headerVersion,
  openvinoVersion,
  type CompiledModel,
} from '../../workers/inference/backends/openvino/index.js';
import { compilePoseModel, type PoseModel } from '../../workers/inference/backends/openvino/pose-model.js';

const SIZE = 640;
const SCORE_ROW = 4;

/** Minimal letterbox for the test: fit into 640x640 keeping aspect, pad with grey 114, RGB u8 NHWC. */
async function letterboxRgb(file: string): Promise<Uint8Array> {
  const { data } = await sharp(file)
    .resize(SIZE, SIZE, { fit: 'contain', background: { r: 114, g: 114, b: 114 } })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  expect(data.length).toBe(SIZE * SIZE * 3);
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/** What the PPP does inside the graph, done by hand: u8 NHWC -> f32 NCHW / 255. */
function toFloatNchw(rgb: Uint8Array): Float32Array {
  const plane = SIZE * SIZE;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[c * plane + i] = rgb[i * 3 + c]! / 255;
  }
  return out;
}

function anchorsAbove(output: Float32Array, threshold: number, anchors = 8400): number {
  let count = 0;
  for (let a = 0; a < anchors; a++) if (output[SCORE_ROW * anchors + a]! > threshold) count++;
  return count;
}

/** Bitwise equality; vitest's deep equal is far too slow on 470k-element arrays. */
function bytesEqual(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

async function expectCode(promise: Promise<unknown> | (() => unknown), code: string): Promise<PosestreamError> {
  let caught: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PosestreamError);
  expect((caught as PosestreamError).code).toBe(code);
  return caught as PosestreamError;
}

// f32 precision so the PPP-vs-manual and batch-vs-single comparisons are not blurred by bf16 rounding.
const F32 = { INFERENCE_PRECISION_HINT: 'f32' } as const;

describe.skipIf(skipWithout('fp32Onnx', 'int8ReferenceIr', 'busImage', 'zidaneImage'))('OpenVINO addon', () => {
  const core = new Core();
  let bus: Uint8Array;
  let zidane: Uint8Array;
  let pose: PoseModel;

  beforeAll(async () => {
    bus = await letterboxRgb(assetPath('busImage'));
    zidane = await letterboxRgb(assetPath('zidaneImage'));
    pose = await compilePoseModel({ path: assetPath('fp32Onnx'), core, config: F32 });
  });

  afterAll(() => {
    pose?.compiled.dispose();
    core.dispose();
  });

  it('loads the runtime whose release matches the headers and lists CPU', () => {
    expect(openvinoVersion.startsWith(`${headerVersion}-`)).toBe(true);
    expect(core.getAvailableDevices()).toContain('CPU');
    expect(core.getVersions('CPU').CPU?.description).toMatch(/cpu/i);
  });

  it('reads the ONNX (dynamic batch) and the IR (static) with their ports', async () => {
    const onnx = await core.readModel(assetPath('fp32Onnx'));
    expect(onnx.inputs).toEqual([{ anyName: 'images', names: ['images'], partialShape: [-1, 3, 640, 640], elementType: 'f32', index: 0 }]);
    expect(onnx.output(0)).toMatchObject({ anyName: 'output0', partialShape: [-1, 56, 8400], elementType: 'f32' });
    expect(onnx.input('images').anyName).toBe('images');
    expect(onnx.isDynamic()).toBe(true);
    onnx.reshape([2, 3, 640, 640]);
    expect(onnx.isDynamic()).toBe(false);
    expect(onnx.outputs[0]!.partialShape).toEqual([2, 56, 8400]);

    const ir = core.readModelSync(assetPath('int8ReferenceIr'));
    expect(ir.inputs[0]).toMatchObject({ anyName: 'x', partialShape: [1, 3, 640, 640] });
    expect(ir.outputs[0]!.partialShape).toEqual([1, 56, 8400]);
    expect(ir.isDynamic()).toBe(false);
    expect(() => ir.input('nope')).toThrow(/no input named 'nope'/);
    onnx.dispose();
    ir.dispose();
  });

  it('sync infer of a letterboxed bus.jpg finds people, and the PPP model matches feeding floats by hand', async () => {
    const raw = await core.compileModel(assetPath('fp32Onnx'), 'CPU', F32);
    expect(Number(raw.getProperty('OPTIMAL_NUMBER_OF_INFER_REQUESTS'))).toBeGreaterThanOrEqual(1);
    // Output keys are the compiled ports' anyName, which OpenVINO may pick differently from the source model.
    const manual = Object.values(raw.createInferRequest().infer(new Tensor('f32', [1, 3, SIZE, SIZE], toFloatNchw(bus))));
    expect(manual).toHaveLength(1);
    const manualOut = manual[0]!.data as Float32Array;
    expect(manual[0]!.getShape()).toEqual([1, 56, 8400]);
    expect(anchorsAbove(manualOut, 0.5)).toBeGreaterThanOrEqual(2);

    expect(pose).toMatchObject({ inputName: 'images', batchDynamic: true, inputShape: [-1, 640, 640, 3], precision: 'f32' });
    const request = pose.compiled.createInferRequest();
    request.infer(new Tensor('u8', [1, SIZE, SIZE, 3], bus));
    const pppOut = request.getOutputTensor(0).data as Float32Array;
    // Same graph, same f32 input values: only op fusion order may differ, so allow float rounding only.
    expect(maxAbsDiff(manualOut, pppOut)).toBeLessThan(1e-2);
    expect(anchorsAbove(pppOut, 0.5)).toBe(anchorsAbove(manualOut, 0.5));
    raw.dispose();
  });

  it('AsyncInferQueue: 20 jobs resolve with outputs identical to sync infer of the same input', async () => {
    const request = pose.compiled.createInferRequest();
    const expected = [bus, zidane].map((image) => {
      request.infer(new Tensor('u8', [1, SIZE, SIZE, 3], image));
      return request.getOutputTensor(0).data as Float32Array;
    });
    const queue = new AsyncInferQueue(pose.compiled);
    expect(queue.size).toBeGreaterThanOrEqual(1);
    expect(queue.maxQueued).toBe(4 * queue.size);
    const jobs = Array.from({ length: 20 }, (_, i) => i);
    // Keep at most size + maxQueued submitted; the rest wait on earlier results (the caller's drop policy).
    const results = await Promise.all(
      jobs.map(async (i) => {
        while (queue.pending >= queue.size + queue.maxQueued) await new Promise((r) => setTimeout(r, 5));
        return queue.startAsync({ data: i % 2 === 0 ? bus : zidane, shape: [1, SIZE, SIZE, 3] }, { i });
      }),
    );
    expect(results.map((r) => r.userData.i)).toEqual(jobs);
    for (const result of results) {
      expect(result.shapes).toEqual([[1, 56, 8400]]);
      expect(result.inferMs).toBeGreaterThan(0);
      expect(bytesEqual(result.outputs[0]!, expected[result.userData.i % 2]!)).toBe(true);
    }
    expect(bytesEqual(expected[0]!, expected[1]!)).toBe(false);
    expect(queue.pending).toBe(0);
    await queue.release();
  });

  it('AsyncInferQueue writes into caller output arrays in place; jobs without them still get their own copies', async () => {
    const request = pose.compiled.createInferRequest();
    const expected = [bus, zidane].map((image) => {
      request.infer(new Tensor('u8', [1, SIZE, SIZE, 3], image));
      return request.getOutputTensor(0).data as Float32Array;
    });
    const queue = new AsyncInferQueue(pose.compiled, 1);
    const lent = new Float32Array(56 * 8400);
    const inPlace = await queue.startAsync({ data: bus, shape: [1, SIZE, SIZE, 3] }, undefined, [{ data: lent, shape: [1, 56, 8400] }]);
    expect(inPlace.outputs[0]).toBe(lent);
    expect(inPlace.shapes).toEqual([[1, 56, 8400]]);
    expect(bytesEqual(lent, expected[0]!)).toBe(true);
    // Same (only) request, no arrays given: a fresh copy, and the previous job's array is left alone.
    const copied = await queue.startAsync({ data: zidane, shape: [1, SIZE, SIZE, 3] });
    expect(copied.outputs[0]).not.toBe(lent);
    expect(bytesEqual(copied.outputs[0]!, expected[1]!)).toBe(true);
    expect(bytesEqual(lent, expected[0]!)).toBe(true);
    await expect(
      queue.startAsync({ data: bus, shape: [1, SIZE, SIZE, 3] }, undefined, [{ data: new Float32Array(10), shape: [1, 56, 8400] }]),
    ).rejects.toMatchObject({ code: 'PS_OV_BAD_OUTPUT', message: expect.stringContaining('output 0 data has 10 elements') });
    await expect(
      queue.startAsync({ data: bus, shape: [1, SIZE, SIZE, 3] }, undefined, [{ data: new Float32Array(56 * 8400), shape: [1, 8400, 56] }]),
    ).rejects.toMatchObject({ code: 'PS_OV_BAD_OUTPUT', message: expect.stringContaining('output 0') });
    expect(queue.pending).toBe(0);
    // The request recovered from the refused array: it still infers correctly.
    const after = await queue.startAsync({ data: bus, shape: [1, SIZE, SIZE, 3] });
    expect(bytesEqual(after.outputs[0]!, expected[0]!)).toBe(true);
    await queue.release();
  });

  it('one request carries a batch of 3 on the dynamic ONNX, equal to 3 single runs', async () => {
    const grey = new Uint8Array(SIZE * SIZE * 3).fill(114);
    const frames = [bus, zidane, grey];
    const batch = new Uint8Array(3 * frames[0]!.length);
    frames.forEach((frame, i) => batch.set(frame, i * frame.length));
    const queue = new AsyncInferQueue(pose.compiled, 2);
    const batched = await queue.startAsync({ data: batch, shape: [3, SIZE, SIZE, 3] });
    expect(batched.shapes).toEqual([[3, 56, 8400]]);
    const per = 56 * 8400;
    for (let i = 0; i < 3; i++) {
      const single = await queue.startAsync({ data: frames[i]!, shape: [1, SIZE, SIZE, 3] });
      const slice = batched.outputs[0]!.subarray(i * per, (i + 1) * per);
      expect(maxAbsDiff(slice, single.outputs[0]!)).toBeLessThan(1e-2);
    }
    expect(anchorsAbove(batched.outputs[0]!.subarray(2 * per, 3 * per), 0.5)).toBe(0);
    // Dynamic batch with lent output arrays, then back to the requests' own (reallocating) outputs.
    const lent = new Float32Array(3 * per);
    const inPlace = await queue.startAsync({ data: batch, shape: [3, SIZE, SIZE, 3] }, undefined, [{ data: lent, shape: [3, 56, 8400] }]);
    expect(inPlace.outputs[0]).toBe(lent);
    expect(maxAbsDiff(lent, batched.outputs[0]!)).toBeLessThan(1e-2);
    const pair = await Promise.all([0, 1].map(() => queue.startAsync({ data: batch.subarray(0, 2 * frames[0]!.length), shape: [2, SIZE, SIZE, 3] })));
    for (const result of pair) {
      expect(result.shapes).toEqual([[2, 56, 8400]]);
      expect(maxAbsDiff(result.outputs[0]!, batched.outputs[0]!.subarray(0, 2 * per))).toBeLessThan(1e-2);
    }
    expect(maxAbsDiff(lent, batched.outputs[0]!)).toBeLessThan(1e-2);
    await queue.release();
  });

  it('the INT8 reference IR (static, input x) runs unchanged through compilePoseModel', async () => {
    const int8 = await compilePoseModel({ path: assetPath('int8ReferenceIr'), core, hint: 'LATENCY' });
    expect(int8).toMatchObject({ inputName: 'x', batchDynamic: false, inputShape: [1, 640, 640, 3], outputShape: [1, 56, 8400] });
    expect(int8.precision).toMatch(/^(f32|bf16|f16)$/);
    const queue = new AsyncInferQueue(int8.compiled);
    const result = await queue.startAsync({ data: bus, shape: [1, SIZE, SIZE, 3] });
    expect(anchorsAbove(result.outputs[0]!, 0.5)).toBeGreaterThanOrEqual(2);
    // A batch of 3 does not fit the static batch-1 model: the request rejects with OpenVINO's reason.
    const wrong = await expectCode(queue.startAsync({ data: new Uint8Array(3 * SIZE * SIZE * 3), shape: [3, SIZE, SIZE, 3] }), 'PS_OV_INFER_FAILED');
    expect(wrong.message).toMatch(/ov_infer_request_\w+ failed: \w+/);
    await queue.release();
    int8.compiled.dispose();
  });

  it('errors carry a PS_OV_* code, the C function, the status and OpenVINO text', async () => {
    const missing = await expectCode(core.readModel('/nonexistent/model.onnx'), 'PS_OV_READ_FAILED');
    expect(missing.message).toMatch(/ov_core_read_model failed: GENERAL_ERROR: .*nonexistent/s);
    await expectCode(compilePoseModel({ path: '/nonexistent/pose.xml', core }), 'PS_OV_READ_FAILED');

    const dir = mkdtempSync(path.join(tmpdir(), 'posestream-ov-'));
    const corrupt = path.join(dir, 'garbage.xml');
    writeFileSync(corrupt, 'this is not <an IR');
    writeFileSync(path.join(dir, 'garbage.bin'), Buffer.alloc(16));
    const bad = await expectCode(core.readModel(corrupt), 'PS_OV_READ_FAILED');
    expect(bad.message).toContain(corrupt);
    expect(() => core.readModelSync(corrupt)).toThrow(/ov_core_read_model failed/);

    const unknown = await expectCode(core.compileModel(assetPath('fp32Onnx'), 'NOPE'), 'PS_OV_UNKNOWN_DEVICE');
    expect(unknown.message).toMatch(/"NOPE".*available: .*CPU/);
    await expectCode(() => core.compileModelSync(assetPath('fp32Onnx'), 'NOPE'), 'PS_OV_UNKNOWN_DEVICE');

    const badKey = await expectCode(core.compileModel(assetPath('int8ReferenceIr'), 'CPU', { NOT_A_PROPERTY: 1 }), 'PS_OV_COMPILE_FAILED');
    expect(badKey.message).toContain('NOT_A_PROPERTY');
  });

  it('queue full rejects with PS_OV_QUEUE_FULL; release rejects waiting jobs and later starts', async () => {
    const queue = new AsyncInferQueue(pose.compiled, 1, { maxQueued: 1 });
    const input = { data: bus, shape: [1, SIZE, SIZE, 3] };
    const first = queue.startAsync(input, 'first');
    const second = queue.startAsync(input, 'second');
    expect(queue.pending).toBe(2);
    const full = await expectCode(queue.startAsync(input, 'third'), 'PS_OV_QUEUE_FULL');
    expect(full.message).toMatch(/1 requests in flight and 1 jobs waiting/);
    expect((await first).userData).toBe('first');
    expect((await second).userData).toBe('second');

    const running = queue.startAsync(input, 'running');
    const waiting = queue.startAsync(input, 'waiting');
    const released = queue.release();
    await expectCode(waiting, 'PS_OV_QUEUE_RELEASED');
    expect((await running).userData).toBe('running');
    await released;
    await expectCode(queue.startAsync(input), 'PS_OV_QUEUE_RELEASED');
    await queue.release();

    const badInput = new AsyncInferQueue(pose.compiled, 1);
    await expectCode(badInput.startAsync({ data: bus, shape: [1, SIZE, SIZE, 4] }), 'PS_OV_BAD_INPUT');
    await badInput.release();
  });

  it('every job settles under churn: chained restarts, lent and copied outputs, release mid-flight', async () => {
    const queue = new AsyncInferQueue(pose.compiled, 2, { maxQueued: 2 });
    const expected = new Map<string, Float32Array>();
    const outcomes: Array<'ok' | 'released'> = [];
    const lanes = Array.from({ length: 4 }, async (_, lane) => {
      const own = new Float32Array(56 * 8400);
      for (let i = 0; ; i++) {
        const image = i % 2 === 0 ? bus : zidane;
        const outputs = lane % 2 === 0 ? [{ data: own, shape: [1, 56, 8400] }] : undefined;
        try {
          const result = await queue.startAsync({ data: image, shape: [1, SIZE, SIZE, 3] }, image === bus ? 'bus' : 'zidane', outputs);
          if (outputs) expect(result.outputs[0]).toBe(own);
          const first = expected.get(result.userData);
          if (first) expect(bytesEqual(result.outputs[0]!, first)).toBe(true);
          else expected.set(result.userData, result.outputs[0]!.slice());
          outcomes.push('ok');
        } catch (error) {
          expect((error as PosestreamError).code).toBe('PS_OV_QUEUE_RELEASED');
          outcomes.push('released');
          return;
        }
      }
    });
    while (outcomes.length < 60) await new Promise((r) => setTimeout(r, 5));
    await queue.release();
    await Promise.all(lanes);
    expect(outcomes.filter((o) => o === 'released')).toHaveLength(4);
    expect(queue.pending).toBe(0);
    expect(queue.inFlight).toBe(0);
  });

  it('tensors share the given memory; data copies, view does not; dispose twice is safe', async () => {
    const backing = new Float32Array([1, 2, 3, 4]);
    const tensor = new Tensor('f32', [2, 2], backing);
    expect(tensor.getShape()).toEqual([2, 2]);
    expect(tensor.getSize()).toBe(4);
    expect(tensor.getElementType()).toBe('f32');
    backing[0] = 42;
    expect(tensor.view()[0]).toBe(42);
    const copy = tensor.data as Float32Array;
    copy[1] = -1;
    expect(backing[1]).toBe(2);
    expect(() => new Tensor('f32', [3], new Float32Array(2))).toThrow(/needs 12/);
    tensor.dispose();
    tensor.dispose();
    await expectCode(() => tensor.getShape(), 'PS_OV_DISPOSED');

    const owned = new Tensor('u8', [4]);
    (owned.view() as Uint8Array).set([9, 8, 7, 6]);
    expect(Array.from(owned.data as Uint8Array)).toEqual([9, 8, 7, 6]);
    owned.dispose();

    const model = await core.readModel(assetPath('int8ReferenceIr'));
    const compiled: CompiledModel = await core.compileModel(model, 'CPU');
    model.dispose();
    model.dispose();
    await expectCode(() => model.inputs, 'PS_OV_DISPOSED');
    const queue = new AsyncInferQueue(compiled, 1);
    compiled.dispose();
    compiled.dispose();
    await expectCode(() => compiled.createInferRequest(), 'PS_OV_DISPOSED');
    await queue.release();
    await queue.release();
    const spare = new Core();
    spare.dispose();
    spare.dispose();
    await expectCode(() => spare.getAvailableDevices(), 'PS_OV_DISPOSED');
  });

  it('an idle queue does not keep the process alive', () => {
    const script = `
      import { compilePoseModel } from './workers/inference/backends/openvino/pose-model.ts';
      import { AsyncInferQueue } from './workers/inference/backends/openvino/index.ts';
      const pose = await compilePoseModel({ path: ${JSON.stringify(assetPath('int8ReferenceIr'))}, hint: 'LATENCY' });
      const queue = new AsyncInferQueue(pose.compiled, 2);
      const result = await queue.startAsync({ data: new Uint8Array(640 * 640 * 3), shape: [1, 640, 640, 3] });
      console.log('done', result.shapes[0].join('x'));
      // no release(): the process must still exit on its own
    `;
    const run = spawnSync(path.join(repoRoot, 'node_modules', '.bin', 'tsx'), ['--input-type=module', '-e', script], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 50_000,
    });
    expect(run.error).toBeUndefined();
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('done 1x56x8400');
    expect(run.status).toBe(0);
  });
});
