/**
 * compilePoseModel: one call from a YOLOv8-pose file (IR or ONNX) to a compiled model that takes u8 letterboxed
 * frames: RGB NHWC [N,S,S,3], or I420 in one plane [N,S*3/2,S,1] (Y rows, then U, then V). The I420 -> RGB
 * conversion (OpenVINO's I420toRGB: BT.601 video range), u8 -> f32, /255 and NHWC -> NCHW are fused into the graph
 * by the PrePostProcessor, so the worker hands frame bytes to the queue as they are (no resize here). A model exported with
 * dynamic height and width ([N,3,?,?], Ultralytics `dynamic=True`) is reshaped to the requested square size here, so
 * its anchor count is static again.
 */
import { existsSync } from 'node:fs';
import { PosestreamError } from '../../../../pipeline/errors.js';
import type { FrameFormat } from '../../../../pipeline/image/i420.js';
import { Core, PrePostProcessor, type CompiledModel, type Config } from './index.js';
import { resolveInputSize, validatePoseModelPorts } from './pose-model-shape.js';

export interface PoseModelOptions {
  /** .xml (with .bin beside it) or .onnx */
  path: string;
  device?: string;
  hint?: 'THROUGHPUT' | 'LATENCY' | 'CUMULATIVE_THROUGHPUT';
  /** Keep the file's batch (default), force a static batch, or make batch dynamic so one request carries B frames. */
  batch?: number | 'dynamic';
  /** Side of the square input: a dynamic model is reshaped to it (default 640); a fixed one must already be it. */
  inputSize?: number;
  cacheDir?: string;
  /** Layout of the frames the compiled model takes (default rgb24). */
  inputFormat?: FrameFormat;
  /** Extra OpenVINO properties; they override hint and cacheDir. */
  config?: Config;
  core?: Core;
}

export interface PoseModel {
  compiled: CompiledModel;
  inputName: string;
  batchDynamic: boolean;
  /** [N,S,S,3] (rgb24) or [N,S*3/2,S,1] (i420), N = -1 when the batch is dynamic. */
  inputShape: [number, number, number, number];
  /** S: the side of the square input the model was compiled for. */
  inputSize: number;
  inputFormat: FrameFormat;
  /** One frame's tensor shape without the batch: [S,S,3] for rgb24, [S*3/2,S,1] for i420. */
  frameShape: [number, number, number];
  outputShape: number[];
  /** The compiled model's actual INFERENCE_PRECISION_HINT (e.g. f32, bf16). */
  precision: string;
}

let sharedCore: Core | undefined;

export async function compilePoseModel(options: PoseModelOptions): Promise<PoseModel> {
  const { path: file, device = 'CPU', hint = 'THROUGHPUT', batch, cacheDir, inputFormat = 'rgb24', config = {} } = options;
  if (!existsSync(file)) throw new PosestreamError('PS_OV_READ_FAILED', `model file not found: ${file}`);
  const core = options.core ?? (sharedCore ??= new Core());
  const model = await core.readModel(file);
  try {
    const layout = validatePoseModelPorts(file, model.inputs, model.outputs);
    const inputSize = resolveInputSize(file, layout, options.inputSize);
    if (batch !== undefined || layout.inputSize === undefined) {
      const dim = batch === undefined ? layout.batch : batch === 'dynamic' ? -1 : batch;
      if (dim !== -1 && (!Number.isInteger(dim) || dim < 1)) {
        throw new PosestreamError('PS_OV_BAD_ARGUMENT', `batch must be a positive integer or 'dynamic', got ${batch}`);
      }
      try {
        model.reshape({ [layout.inputName]: [dim, 3, inputSize, inputSize] });
      } catch (error) {
        if (layout.inputSize !== undefined) throw error;
        // A graph whose anchor grid was fixed at export (shape constants) only runs at that one size.
        throw new PosestreamError(
          'PS_OV_RESHAPE_FAILED',
          `${file} has a dynamic input but cannot run at ${inputSize}x${inputSize} (its graph fixes another size; export it with dynamic=True from the .pt, or set model.inputSize to the size it was exported at): ${(error as Error).message.split('\n')[0]}`,
          { cause: error },
        );
      }
    }
    const ppp = new PrePostProcessor(model);
    ppp.input(layout.inputName).tensor().setElementType('u8').setLayout('NHWC');
    if (inputFormat === 'i420') {
      // One plane (Y, U, V stacked): one buffer per frame, as the frames travel. S is even (a multiple of 32).
      ppp.input(layout.inputName).tensor().setColorFormat('I420_SINGLE_PLANE');
      ppp.input(layout.inputName).preprocess().convertColor('RGB');
    }
    ppp.input(layout.inputName).preprocess().convertElementType('f32').scale(255);
    ppp.input(layout.inputName).model().setLayout('NCHW');
    const prepared = ppp.build();
    const properties: Config = { PERFORMANCE_HINT: hint, ...(cacheDir ? { CACHE_DIR: cacheDir } : {}), ...config };
    const compiled = await core.compileModel(prepared, device, properties);
    prepared.dispose();
    const inputShape = compiled.inputs[0]!.partialShape ?? [];
    const outputShape = compiled.outputs[0]!.partialShape ?? [];
    return {
      compiled,
      inputName: layout.inputName,
      batchDynamic: inputShape[0] === -1,
      inputShape: [inputShape[0] ?? -1, inputShape[1] ?? -1, inputShape[2] ?? -1, inputShape[3] ?? -1],
      inputSize,
      inputFormat,
      frameShape: inputFormat === 'i420' ? [(inputSize * 3) / 2, inputSize, 1] : [inputSize, inputSize, 3],
      outputShape,
      precision: compiled.getProperty('INFERENCE_PRECISION_HINT'),
    };
  } finally {
    model.dispose();
  }
}
