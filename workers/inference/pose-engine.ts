/**
 * PoseEngine: frames in, persons out, on any backend (workers/inference/backends/). It owns a pool of input/output
 * buffer pairs: each call pads its frames (already fitted inside the input size by ingest) straight into a pooled
 * buffer of B frames in the engine's input format (RGB24 [B,size,size,3], or I420 whose colour the compiled model
 * converts; a frame in the other format is converted first, which only happens when ingest and worker disagree), lends the backend the pooled [B,56,anchors] output to write into (no copy, no allocation
 * per frame), and decodes every image of the output. Bounded: at most `capacity` calls hold a buffer (the
 * backend's requests plus one waiting call each); beyond that infer() rejects PS_ENGINE_BUSY (retryable) and the
 * caller applies its own drop/hold policy, using `inFlight` for back-pressure.
 */
import type { ModelBackend } from '../../config/schema.js';
import { PosestreamError } from '../../pipeline/errors.js';
import { DEFAULT_DECODE_OPTIONS, POSE_ROWS, decodePoses, type DecodeOptions } from '../../pipeline/pose/decode-yolov8.js';
import { frameBytes, i420ToRgb, rgbToI420, type FrameFormat } from '../../pipeline/image/i420.js';
import { letterboxTransform, padI420Into, padInto, type LetterboxTransform } from '../../pipeline/pose/letterbox.js';
import type { Person } from '../../pipeline/wire/v1.js';
import { compileBackend, type BackendSettings, type PoseBackend } from './backends/index.js';

/** Fitted inside the model input (see fitInside in pipeline/pose/letterbox.ts). */
export interface EngineFrame {
  pixels: Uint8Array;
  /** Layout of `pixels` (pipeline/image/i420.ts); default rgb24. */
  format?: FrameFormat;
  width: number;
  height: number;
  sourceWidth: number;
  sourceHeight: number;
}

export interface PoseEngineOptions {
  modelPath: string;
  /** Which runtime runs the model (default openvino). */
  backend?: ModelBackend;
  device?: string;
  /** > 1 compiles the model with a dynamic batch so one request carries up to maxBatch frames. Default 1. */
  maxBatch?: number;
  /** Default: what the backend finds best for the device (OpenVINO: OPTIMAL_NUMBER_OF_INFER_REQUESTS). */
  inferRequests?: number;
  /** Pins the inference precision (e.g. 'f32'); unset or 'default' lets the runtime choose (bf16 on AVX512-BF16 CPUs). */
  precision?: string;
  /**
   * Side of the square model input (model.inputSize): a model exported with a dynamic size is reshaped to it, a
   * fixed one must match. Default: a fixed model's own size, 640 for a dynamic one. Frames must be fitted inside it.
   */
  inputSize?: number;
  decode?: DecodeOptions;
  /**
   * Layout of the model input (default rgb24): 'i420' compiles the model with the I420 -> RGB conversion in its
   * graph and letterboxes in YUV (half the bytes per frame).
   */
  inputFormat?: FrameFormat;
  /** Runtime-specific settings (OpenVINO: performance hint, compilation cache). */
  settings?: BackendSettings;
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
  /** Infer requests in parallel (now: an AdaptiveEngine's follow its mode). */
  readonly requests: number;
  /** The most `requests` ever is, when it changes at run time (AdaptiveEngine); else `requests`. */
  readonly mostRequests?: number;
  /** Calls that may be in flight at once (beyond that infer() rejects PS_ENGINE_BUSY). */
  readonly capacity: number;
  /** Frames per infer() call at most. */
  readonly maxBatch: number;
  /** The precision inference really runs at (e.g. f32, bf16), and on which device. */
  readonly precision: string;
  readonly device: string;
  dispose(): Promise<void>;
}

/** A mid-grey frame filling the whole input: what engines are warmed up and timed with. */
export function blankFrame(format: FrameFormat, size: number): EngineFrame {
  return { pixels: new Uint8Array(frameBytes(format, size, size)).fill(128), format, width: size, height: size, sourceWidth: size, sourceHeight: size };
}

/**
 * Runs one batch of every size 1..maxBatch. A model with a dynamic batch prepares its kernels for an input shape
 * the first time it meets it: measured with the INT8 IR on 2 cores, batches of 1-4 took 324-384 ms the first time
 * and 48-140 ms after. Unwarmed, the first batch of each new size stalls every camera of the worker just as its
 * load grows (a p99 of ~0.5-1 s at the step where batches first grow, in `bench capacity`).
 */
export async function warmUpBatchSizes(engine: PoseInference, frame: EngineFrame): Promise<void> {
  for (let size = 1; size <= engine.maxBatch; size += 1) await engine.infer(Array.from({ length: size }, () => frame));
}

interface BufferSlot {
  buffer: Uint8Array;
  output: Float32Array;
  /** Fitted size last padded at each batch position: same size again means the pad is already in place. */
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
  /** Side of the square model input. */
  readonly inputSize: number;
  /** Layout of the model input; frames in another layout are converted. */
  readonly inputFormat: FrameFormat;
  private readonly anchors: number;
  private readonly frameBytes: number;
  /** Floats of one image's output, [56, anchors]. */
  private readonly outputSize: number;
  private readonly decodeOptions: DecodeOptions;
  private readonly free: BufferSlot[] = [];
  private busy = 0;
  private disposed = false;

  private constructor(
    private readonly backend: PoseBackend,
    options: PoseEngineOptions,
  ) {
    const description = backend.describe();
    this.modelPath = options.modelPath;
    this.precision = description.precision;
    this.device = description.device;
    this.requests = description.requests;
    this.maxBatch = description.maxBatch;
    this.capacity = backend.capacity;
    this.inputSize = description.inputSize;
    this.anchors = description.anchors;
    this.inputFormat = description.inputFormat;
    this.frameBytes = frameBytes(this.inputFormat, this.inputSize, this.inputSize);
    this.outputSize = POSE_ROWS * this.anchors;
    this.decodeOptions = options.decode ?? DEFAULT_DECODE_OPTIONS;
  }

  static async create(options: PoseEngineOptions): Promise<PoseEngine> {
    const maxBatch = options.maxBatch ?? 1;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new PosestreamError('PS_ENGINE_BAD_OPTION', `maxBatch must be a positive integer, got ${maxBatch}`);
    }
    const backend = await compileBackend(
      options.backend ?? 'openvino',
      {
        modelPath: options.modelPath,
        device: options.device ?? 'CPU',
        maxBatch,
        ...(options.inputSize === undefined ? {} : { inputSize: options.inputSize }),
        inputFormat: options.inputFormat ?? 'rgb24',
        ...(options.inferRequests === undefined ? {} : { inferRequests: options.inferRequests }),
        ...(options.precision === undefined ? {} : { precision: options.precision }),
      },
      options.settings,
    );
    return new PoseEngine(backend, options);
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
      buffer: new Uint8Array(this.maxBatch * this.frameBytes),
      output: new Float32Array(this.maxBatch * this.outputSize),
      placed: [],
    };
    this.busy++;
    try {
      const transforms = frames.map((frame, i) => this.place(slot, i, frame));
      const batch = frames.length;
      const data = batch === this.maxBatch ? slot.buffer : slot.buffer.subarray(0, batch * this.frameBytes);
      const output = batch === this.maxBatch ? slot.output : slot.output.subarray(0, batch * this.outputSize);
      const { inferMs } = await this.backend.infer(data, batch, output);
      const started = performance.now();
      const persons = transforms.map((transform, i) => decodePoses(output, this.anchors, i, transform, this.decodeOptions));
      return { persons, inferMs, postMs: performance.now() - started };
    } finally {
      // The request has settled (or never started): the buffer may be written again.
      this.busy--;
      this.free.push(slot);
    }
  }

  private place(slot: BufferSlot, index: number, frame: EngineFrame): LetterboxTransform {
    const { width, height, sourceWidth, sourceHeight } = frame;
    let transform: LetterboxTransform;
    try {
      transform = letterboxTransform(sourceWidth, sourceHeight, this.inputSize, width, height);
      const key = `${width}x${height}`;
      const pixels = this.inInputFormat(frame);
      const pad = this.inputFormat === 'i420' ? padI420Into : padInto;
      pad(slot.buffer, index * this.frameBytes, pixels, width, height, this.inputSize, slot.placed[index] === key);
      slot.placed[index] = key;
    } catch (error) {
      slot.placed[index] = undefined;
      throw new PosestreamError('PS_ENGINE_BAD_FRAME', `frame ${index} (${width}x${height} of ${sourceWidth}x${sourceHeight}): ${(error as Error).message}`, { cause: error });
    }
    return transform;
  }

  /** The frame's pixels in the engine's input format (a frame from an ingest configured otherwise is converted). */
  private inInputFormat(frame: EngineFrame): Uint8Array {
    const format = frame.format ?? 'rgb24';
    if (format === this.inputFormat) return frame.pixels;
    return this.inputFormat === 'i420' ? rgbToI420(frame.pixels, frame.width, frame.height) : i420ToRgb(frame.pixels, frame.width, frame.height);
  }

  /** Lets in-flight requests finish, rejects waiting ones, frees the model. Safe to call twice. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.backend.dispose();
  }
}
