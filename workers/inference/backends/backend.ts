/**
 * The seam between PoseEngine and a model runtime. PoseEngine keeps everything that is the same on every runtime
 * (buffer pooling, letterboxing into the input, decoding YOLOv8-pose output); a backend only compiles the model and
 * runs a batch of prepared input into an output array it is lent. OpenVINO (./openvino/) is the one backend; a
 * second one (e.g. ONNX Runtime for NVIDIA GPUs) is a new folder here plus its name in `model.backend`
 * (config/schema.ts MODEL_BACKENDS) and in ./index.ts.
 */
import type { FrameFormat } from '../../../pipeline/image/i420.js';

/**
 * Layout of the input a backend takes, per frame (pipeline/image/i420.ts): 'rgb24' = size x size x 3 bytes, RGB,
 * row-major (NHWC); 'i420' = a size x size Y plane then size/2 x size/2 U and V planes (size * size * 3/2 bytes,
 * BT.601 video range), which the backend converts to RGB inside the compiled model.
 */
export type InputFormat = FrameFormat;

/**
 * What a compilation is for: 'latency' (one request finishes as soon as possible) or 'throughput' (most frames/s).
 * model.hint ADAPTIVE compiles both (workers/inference/adaptive-engine.ts); each backend maps them to its own knobs.
 */
export type EngineProfile = 'latency' | 'throughput';

export interface BackendRequest {
  modelPath: string;
  device: string;
  /** Frames per infer() call at most: 1 compiles a static batch of one, more a dynamic batch dimension. */
  maxBatch: number;
  /**
   * Side of the square input the model runs at: a model with dynamic height and width is reshaped to it, a model
   * with another fixed size is refused. Undefined: a fixed model's own size, 640 for a dynamic one.
   */
  inputSize?: number;
  inputFormat: InputFormat;
  /** Requests run in parallel; default: what the runtime finds best for the device. */
  inferRequests?: number;
  /** Inference precision ('f32', 'bf16', 'f16'); undefined or 'default' lets the runtime choose. */
  precision?: string;
}

export interface BackendDescription {
  /** The backend's name, as in `model.backend`. */
  runtime: string;
  device: string;
  /** The precision inference really runs at (read back from the runtime). */
  precision: string;
  inputSize: number;
  inputFormat: InputFormat;
  /** Output per frame: [POSE_ROWS, anchors] float32 (anchors = 8400 at 640). */
  anchors: number;
  maxBatch: number;
  /** Requests run in parallel. */
  requests: number;
}

export interface PoseBackend {
  describe(): BackendDescription;
  /** infer() calls that may be pending at once (running plus waiting for a request); more are rejected. */
  readonly capacity: number;
  /**
   * Runs one request over the first `batch` frames of `input` (inputFormat: frameBytes(inputFormat, size, size) each) and
   * writes the model output, [batch, POSE_ROWS, anchors] float32, into `output`. Both arrays stay the caller's; the
   * backend uses them in place and the caller does not touch them until the promise settles.
   */
  infer(input: Uint8Array, batch: number, output: Float32Array): Promise<{ inferMs: number }>;
  /** Lets running requests finish, rejects waiting ones, frees the model. */
  dispose(): Promise<void>;
}
