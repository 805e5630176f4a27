/**
 * PoseEngine: frames in, persons out. Owns one compiled YOLOv8-pose model (u8 RGB NHWC input, preprocessing fused
 * into the graph), an AsyncInferQueue with `requests` infer requests, and a pool of input/output buffer pairs.
 * Each call pads its frames (already fitted inside 640 by ingest) straight into a pooled [B,640,640,3] buffer,
 * runs them as one request that writes into the pooled [B,56,anchors] output (no copy, no allocation per frame),
 * and decodes every image of the output. Bounded: at most `capacity` calls hold a buffer (one per
 * request plus one waiting job per request); beyond that infer() rejects PS_ENGINE_BUSY (retryable) and the
 * caller applies its own drop/hold policy, using `inFlight` for back-pressure.
 */
import { PosestreamError } from '../../pipeline/errors.js';
import { DEFAULT_DECODE_OPTIONS, POSE_ROWS, decodePoses, type DecodeOptions } from '../../pipeline/pose/decode-yolov8.js';
import { MODEL_INPUT_SIZE, letterboxTransform, padInto, type LetterboxTransform } from '../../pipeline/pose/letterbox.js';
import type { Person } from '../../pipeline/wire/v1.js';
import { AsyncInferQueue, type Config } from './native/index.js';
import { compilePoseModel, type PoseModel } from './native/pose-model.js';

/** RGB24, fitted inside 640 (see fitInside in pipeline/pose/letterbox.ts). */
export interface EngineFrame {
  pixels: Uint8Array;
  width: number;
  height: number;
  sourceWidth: number;
  sourceHeight: number;
}

export interface PoseEngineOptions {
  modelPath: string;
  device?: string;
  hint?: 'THROUGHPUT' | 'LATENCY' | 'CUMULATIVE_THROUGHPUT';
  /** > 1 compiles the model with a dynamic batch so one request carries up to maxBatch frames. Default 1. */
  maxBatch?: number;
  /** Default: the compiled model's OPTIMAL_NUMBER_OF_INFER_REQUESTS. */
  inferRequests?: number;
  cacheDir?: string;
  /** Pins INFERENCE_PRECISION_HINT (e.g. 'f32'); unset or 'default' lets OpenVINO choose (bf16 on AVX512-BF16 CPUs). */
  precision?: string;
  decode?: DecodeOptions;
}

export interface EngineResult {
  /** One list per input frame, in input order, in source pixels. */
  persons: Person[][];
  /** Request start to completion (includes waiting for a free request). */
  inferMs: number;
  /** Decoding all frames of the batch. */
  postMs: number;
}

/** What a worker needs of an engine: PoseEngine, or a test or benchmark's own (no instanceof checks anywhere). */
export interface PoseInference {
  infer(frames: EngineFrame[]): Promise<EngineResult>;
  /** Infer requests in parallel. */
  readonly requests: number;
  /** Calls that may be in flight at once (beyond that infer() rejects PS_ENGINE_BUSY). */
  readonly capacity: number;
  /** Frames per infer() call at most. */
  readonly maxBatch: number;
  /** The precision inference really runs at (e.g. f32, bf16), and on which device. */
  readonly precision: string;
  readonly device: string;
  dispose(): Promise<void>;
}

const FRAME_BYTES = MODEL_INPUT_SIZE * MODEL_INPUT_SIZE * 3;

interface BufferSlot {
  buffer: Uint8Array;
  output: Float32Array;
  /** Fitted size last padded at each batch position: same size again means the 114 pad is already in place. */
  placed: Array<string | undefined>;
}

export class PoseEngine implements PoseInference {
  readonly precision: string;
  readonly device: string;
  readonly requests: number;
  readonly maxBatch: number;
  /** Calls that may hold an input buffer at once (in flight + waiting for a request). */
  readonly capacity: number;
  readonly modelPath: string;
  private readonly anchors: number;
  /** Floats of one image's output, [56, anchors] (the 56 rows are checked by compilePoseModel). */
  private readonly outputSize: number;
  private readonly decodeOptions: DecodeOptions;
  private readonly free: BufferSlot[] = [];
  private busy = 0;
  private disposed = false;

  private constructor(
    private readonly model: PoseModel,
    private readonly queue: AsyncInferQueue,
    options: PoseEngineOptions,
    maxBatch: number,
  ) {
    this.modelPath = options.modelPath;
    this.precision = model.precision;
    this.device = options.device ?? 'CPU';
    this.requests = queue.size;
    this.maxBatch = maxBatch;
    this.capacity = queue.size + queue.maxQueued;
    this.anchors = model.outputShape[2] ?? -1;
    this.outputSize = POSE_ROWS * this.anchors;
    this.decodeOptions = options.decode ?? DEFAULT_DECODE_OPTIONS;
  }

  static async create(options: PoseEngineOptions): Promise<PoseEngine> {
    const maxBatch = options.maxBatch ?? 1;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new PosestreamError('PS_ENGINE_BAD_OPTION', `maxBatch must be a positive integer, got ${maxBatch}`);
    }
    const precision = options.precision;
    const config: Config = precision && precision !== 'default' ? { INFERENCE_PRECISION_HINT: precision } : {};
    const model = await compilePoseModel({
      path: options.modelPath,
      device: options.device ?? 'CPU',
      hint: options.hint ?? 'THROUGHPUT',
      // Batch 1 stays static (fastest kernels, and ONNX exports come with a dynamic batch we don't want then).
      batch: maxBatch > 1 ? 'dynamic' : 1,
      ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
      config,
    });
    try {
      if (!((model.outputShape[2] ?? -1) > 0)) {
        throw new PosestreamError('PS_OV_NOT_POSE_MODEL', `${options.modelPath}: output anchors are not static (${JSON.stringify(model.outputShape)})`);
      }
      const requests = options.inferRequests ?? Number(model.compiled.getProperty('OPTIMAL_NUMBER_OF_INFER_REQUESTS'));
      // One waiting job per request keeps every request busy back to back without a deep hidden queue.
      const queue = new AsyncInferQueue(model.compiled, requests, { maxQueued: requests });
      return new PoseEngine(model, queue, options, maxBatch);
    } catch (error) {
      model.compiled.dispose();
      throw error;
    }
  }

  /** Calls holding an input buffer (running or waiting for a request). */
  get inFlight(): number {
    return this.busy;
  }

  /** Letterboxes (pads) each frame once into the request's input buffer, runs one batched request, decodes. */
  async infer(frames: EngineFrame[]): Promise<EngineResult> {
    if (this.disposed) throw new PosestreamError('PS_ENGINE_DISPOSED', 'PoseEngine used after dispose()');
    if (frames.length < 1 || frames.length > this.maxBatch) {
      throw new PosestreamError('PS_ENGINE_BAD_BATCH', `infer() takes 1..${this.maxBatch} frames, got ${frames.length}`);
    }
    if (this.busy >= this.capacity) {
      throw new PosestreamError('PS_ENGINE_BUSY', `all ${this.capacity} input buffers are in use (${this.requests} requests)`, { retryable: true });
    }
    const slot = this.free.pop() ?? {
      buffer: new Uint8Array(this.maxBatch * FRAME_BYTES),
      output: new Float32Array(this.maxBatch * this.outputSize),
      placed: [],
    };
    this.busy++;
    try {
      const transforms = frames.map((frame, i) => this.place(slot, i, frame));
      const batch = frames.length;
      const data = batch === this.maxBatch ? slot.buffer : slot.buffer.subarray(0, batch * FRAME_BYTES);
      const output = batch === this.maxBatch ? slot.output : slot.output.subarray(0, batch * this.outputSize);
      const result = await this.queue.startAsync({ data, shape: [batch, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE, 3] }, undefined, [
        { data: output, shape: [batch, POSE_ROWS, this.anchors] },
      ]);
      const started = performance.now();
      const persons = transforms.map((transform, i) => decodePoses(result.outputs[0]!, this.anchors, i, transform, this.decodeOptions));
      return { persons, inferMs: result.inferMs, postMs: performance.now() - started };
    } finally {
      // The request has settled (or never started): the buffer may be written again.
      this.busy--;
      this.free.push(slot);
    }
  }

  private place(slot: BufferSlot, index: number, frame: EngineFrame): LetterboxTransform {
    const { pixels, width, height, sourceWidth, sourceHeight } = frame;
    let transform: LetterboxTransform;
    try {
      transform = letterboxTransform(sourceWidth, sourceHeight, MODEL_INPUT_SIZE, width, height);
      const key = `${width}x${height}`;
      padInto(slot.buffer, index * FRAME_BYTES, pixels, width, height, MODEL_INPUT_SIZE, slot.placed[index] === key);
      slot.placed[index] = key;
    } catch (error) {
      slot.placed[index] = undefined;
      throw new PosestreamError('PS_ENGINE_BAD_FRAME', `frame ${index} (${width}x${height} of ${sourceWidth}x${sourceHeight}): ${(error as Error).message}`, { cause: error });
    }
    return transform;
  }

  /** Lets in-flight requests finish, rejects waiting ones, frees the model. Safe to call twice. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.queue.release();
    this.model.compiled.dispose();
  }
}
