import { POSE_ROWS } from '../../../../pipeline/pose/decode-yolov8.js';
import { PosestreamError } from '../../../../pipeline/errors.js';
import type { BackendDescription, BackendRequest, PoseBackend } from '../backend.js';
import { AsyncInferQueue, type Config } from './index.js';
import { compilePoseModel, type PoseModel } from './pose-model.js';
import type { OpenVinoSettings } from './settings.js';

/**
 * The OpenVINO backend: compilePoseModel (u8 RGB NHWC or I420 in, the conversion to RGB f32 NCHW / 255 fused into
 * the graph) and
 * an AsyncInferQueue with one waiting job per request, so every request runs back to back without a deep hidden
 * queue. Each request writes straight into the output array PoseEngine lends it.
 */
export async function compileOpenVino(request: BackendRequest, settings: OpenVinoSettings): Promise<PoseBackend> {
  const { precision } = request;
  const config: Config = precision && precision !== 'default' ? { INFERENCE_PRECISION_HINT: precision } : {};
  const model = await compilePoseModel({
    path: request.modelPath,
    device: request.device,
    hint: settings.hint ?? 'THROUGHPUT',
    // Batch 1 stays static (fastest kernels, and ONNX exports come with a dynamic batch we don't want then).
    batch: request.maxBatch > 1 ? 'dynamic' : 1,
    inputFormat: request.inputFormat,
    ...(request.inputSize === undefined ? {} : { inputSize: request.inputSize }),
    ...(settings.cacheDir ? { cacheDir: settings.cacheDir } : {}),
    config,
  });
  try {
    const anchors = model.outputShape[2] ?? -1;
    if (!(anchors > 0)) {
      throw new PosestreamError('PS_OV_NOT_POSE_MODEL', `${request.modelPath}: output anchors are not static (${JSON.stringify(model.outputShape)})`);
    }
    const requests = request.inferRequests ?? Number(model.compiled.getProperty('OPTIMAL_NUMBER_OF_INFER_REQUESTS'));
    const queue = new AsyncInferQueue(model.compiled, requests, { maxQueued: requests });
    return new OpenVinoBackend(model, queue, {
      runtime: 'openvino',
      device: request.device,
      precision: model.precision,
      inputSize: model.inputSize,
      inputFormat: request.inputFormat,
      anchors,
      maxBatch: request.maxBatch,
      requests: queue.size,
    });
  } catch (error) {
    model.compiled.dispose();
    throw error;
  }
}

class OpenVinoBackend implements PoseBackend {
  readonly capacity: number;

  constructor(
    private readonly model: PoseModel,
    private readonly queue: AsyncInferQueue,
    private readonly description: BackendDescription,
  ) {
    this.capacity = queue.size + queue.maxQueued;
  }

  describe(): BackendDescription {
    return { ...this.description };
  }

  async infer(input: Uint8Array, batch: number, output: Float32Array): Promise<{ inferMs: number }> {
    const { anchors } = this.description;
    const result = await this.queue.startAsync({ data: input, shape: [batch, ...this.model.frameShape] }, undefined, [{ data: output, shape: [batch, POSE_ROWS, anchors] }]);
    return { inferMs: result.inferMs };
  }

  async dispose(): Promise<void> {
    await this.queue.release();
    this.model.compiled.dispose();
  }
}
