/**
 * Typed API over the posestream OpenVINO addon (the only module that loads the `.node`). Shape follows
 * openvino-node: Core, Model, CompiledModel, InferRequest, Tensor, PrePostProcessor, AsyncInferQueue.
 * Every failure is a PosestreamError with a PS_OV_* code whose message names the C function, the status and
 * OpenVINO's own text. See README.md for how the OpenVINO runtime is found.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PosestreamError } from '../../../../pipeline/errors.js';
import { PrePostProcessSpecBuilder, type PrePostProcessSpec } from './ppp-spec.js';

export type { ColorFormat, ResizeAlgorithm } from './ppp-spec.js';

export type ElementType =
  | 'f32' | 'f16' | 'bf16' | 'f64' | 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64' | 'boolean'
  | 'dynamic' | 'i4' | 'u1' | 'u4' | 'nf4' | 'string';

export type TypedArray =
  | Float32Array | Float64Array | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | BigInt64Array | BigUint64Array;

export interface PortInfo {
  /** First tensor name, '' for an anonymous port. */
  anyName: string;
  /** The C API exposes only one name per port, so this is [anyName] (or []). */
  names: string[];
  /** -1 for a dynamic dimension; null for a dynamic rank. */
  partialShape: number[] | null;
  elementType: ElementType;
  index: number;
}

export type PropertyValue = string | number | boolean;
export type Config = Record<string, PropertyValue>;

export interface Model {
  readonly inputs: PortInfo[];
  readonly outputs: PortInfo[];
  input(selector?: number | string): PortInfo;
  output(selector?: number | string): PortInfo;
  /** One shape for a single-input model, or shapes by input name; -1 marks a dynamic dimension. */
  reshape(shape: number[] | Record<string, number[]>): Model;
  isDynamic(): boolean;
  dispose(): void;
}

export interface Tensor {
  getShape(): number[];
  getSize(): number;
  getElementType(): ElementType;
  /** A copy of the tensor's memory. */
  readonly data: TypedArray;
  /**
   * Zero-copy view of the tensor's memory. For an output tensor it is valid only until the next inference of
   * the owning request (which overwrites the buffer) and never after dispose().
   */
  view(): TypedArray;
  dispose(): void;
}

export interface TensorConstructor {
  /** Without `data` OpenVINO allocates the memory; with `data` the tensor uses that array's memory (no copy). */
  new (type: ElementType, shape: number[], data?: TypedArray): Tensor;
}

export interface InferRequest {
  setInputTensor(tensor: Tensor): void;
  setInputTensor(index: number, tensor: Tensor): void;
  setTensor(name: string, tensor: Tensor): void;
  /** Synchronous (blocks the event loop): for tools and tests. Keys are output names ('0'... when anonymous). */
  infer(inputs?: Tensor | Tensor[] | Record<string, Tensor>): Record<string, Tensor>;
  getOutputTensor(index?: number): Tensor;
  dispose(): void;
}

export interface CompiledModel {
  readonly inputs: PortInfo[];
  readonly outputs: PortInfo[];
  createInferRequest(): InferRequest;
  getProperty(key: string): string;
  dispose(): void;
}

export interface InferResult<U = unknown> {
  /** One Float32Array per model output: the job's own output arrays, or copies of the request's outputs. */
  outputs: Float32Array[];
  shapes: number[][];
  userData: U;
  /** From start of the request to its completion being handled on the JS thread. */
  inferMs: number;
}

export type AsyncInput = Tensor | { data: Uint8Array | Float32Array; shape: number[] };
/** Where the request writes one output, in place; shape must be the output's shape for this input. */
export interface AsyncOutput {
  data: Float32Array;
  shape: number[];
}

interface NativeCore {
  getAvailableDevices(): string[];
  getVersions(device: string): Record<string, { buildNumber: string; description: string }>;
  readModel(modelPath: string, weightsPath?: string): Promise<Model>;
  readModelSync(modelPath: string, weightsPath?: string): Model;
  compileModel(model: Model | string, device: string, config?: Record<string, string>): Promise<CompiledModel>;
  compileModelSync(model: Model | string, device: string, config?: Record<string, string>): CompiledModel;
  setProperty(device: string, properties: Record<string, string>): void;
  getProperty(device: string, key: string): string;
  dispose(): void;
}

interface NativeAsyncInferQueue {
  readonly size: number;
  readonly pending: number;
  readonly inFlight: number;
  readonly maxQueued: number;
  startAsync(input: AsyncInput, userData?: unknown, outputs?: AsyncOutput[]): Promise<InferResult>;
  release(): Promise<void>;
}

interface NativeBinding {
  load(libraryPath: string): string;
  setErrorFactory(factory: (code: string, message: string) => Error): void;
  headerVersion: string;
  Core: new () => NativeCore;
  Tensor: TensorConstructor;
  AsyncInferQueue: new (compiled: CompiledModel, jobs?: number, maxQueued?: number) => NativeAsyncInferQueue;
  buildPrePostProcessedModel(model: Model, spec: PrePostProcessSpec): Model;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function loadBinding(): { binding: NativeBinding; runtimeVersion: string } {
  const addonPath = path.join(here, 'build', 'Release', 'posestream_openvino.node');
  if (!existsSync(addonPath)) {
    throw new PosestreamError('PS_OV_ADDON_NOT_BUILT', `OpenVINO addon not built (${addonPath} missing): run \`npm run build:addon\``);
  }
  const binding = require(addonPath) as NativeBinding;
  binding.setErrorFactory((code, message) => new PosestreamError(code, message));
  const locator = require('./find-openvino.cjs') as {
    findOpenVinoDir(): string;
    findOpenVinoCLibrary(dir: string): string;
  };
  let libraryPath: string;
  try {
    libraryPath = locator.findOpenVinoCLibrary(locator.findOpenVinoDir());
  } catch (error) {
    throw new PosestreamError('PS_OV_LOAD_FAILED', (error as Error).message, { cause: error });
  }
  return { binding, runtimeVersion: binding.load(libraryPath) };
}

const { binding, runtimeVersion } = loadBinding();

/** Runtime build number, e.g. "2026.4.1-22982-...". Checked at load to match the headers' release. */
export const openvinoVersion: string = runtimeVersion;
export const headerVersion: string = binding.headerVersion;

export const Tensor: TensorConstructor = binding.Tensor;

/** Config values are stringified; booleans become YES/NO as OpenVINO's property parser expects. */
export function stringifyConfig(config: Config = {}): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    result[key] = typeof value === 'boolean' ? (value ? 'YES' : 'NO') : String(value);
  }
  return result;
}

export class Core {
  private readonly native = new binding.Core();

  getAvailableDevices(): string[] {
    return this.native.getAvailableDevices();
  }
  getVersions(device: string): Record<string, { buildNumber: string; description: string }> {
    return this.native.getVersions(device);
  }
  /** Reads IR (.xml + .bin beside it, or `weights`) or ONNX on the libuv pool. */
  readModel(modelPath: string, weights?: string): Promise<Model> {
    return this.native.readModel(modelPath, weights);
  }
  readModelSync(modelPath: string, weights?: string): Model {
    return this.native.readModelSync(modelPath, weights);
  }
  /** Compiles on the libuv pool. An unknown device rejects with PS_OV_UNKNOWN_DEVICE listing available ones. */
  compileModel(model: Model | string, device: string, config?: Config): Promise<CompiledModel> {
    return this.native.compileModel(model, device, stringifyConfig(config));
  }
  compileModelSync(model: Model | string, device: string, config?: Config): CompiledModel {
    return this.native.compileModelSync(model, device, stringifyConfig(config));
  }
  setProperty(device: string, properties: Config): void {
    this.native.setProperty(device, stringifyConfig(properties));
  }
  getProperty(device: string, key: string): string {
    return this.native.getProperty(device, key);
  }
  dispose(): void {
    this.native.dispose();
  }
}

/**
 * Builds a new Model with pre/post-processing fused into the graph. As in OpenVINO, the source model object is
 * updated too; use the returned model.
 */
export class PrePostProcessor extends PrePostProcessSpecBuilder {
  constructor(private readonly model: Model) {
    super();
  }
  build(): Model {
    return binding.buildPrePostProcessedModel(this.model, this.spec());
  }
}

export interface AsyncInferQueueOptions {
  /** Jobs allowed to wait for a free request; beyond that startAsync rejects with PS_OV_QUEUE_FULL. Default 4 x size. */
  maxQueued?: number;
}

/**
 * `size` infer requests (default: the compiled model's OPTIMAL_NUMBER_OF_INFER_REQUESTS) fed from a bounded
 * FIFO. An input's memory is used in place (no copy) and must not be modified until its promise settles.
 * A request may carry a batch [B, ...] when the model's batch dimension is dynamic. An idle queue does not
 * keep the process alive. Call release() when done.
 */
export class AsyncInferQueue {
  private readonly native: NativeAsyncInferQueue;

  constructor(compiled: CompiledModel, jobs?: number, options: AsyncInferQueueOptions = {}) {
    if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1)) {
      throw new PosestreamError('PS_OV_BAD_ARGUMENT', `AsyncInferQueue jobs must be a positive integer, got ${jobs}`);
    }
    const { maxQueued } = options;
    if (maxQueued !== undefined && (!Number.isInteger(maxQueued) || maxQueued < 0)) {
      throw new PosestreamError('PS_OV_BAD_ARGUMENT', `AsyncInferQueue maxQueued must be an integer >= 0, got ${maxQueued}`);
    }
    this.native = new binding.AsyncInferQueue(compiled, jobs ?? 0, maxQueued);
  }

  get size(): number {
    return this.native.size;
  }
  /** Jobs in flight plus jobs waiting. */
  get pending(): number {
    return this.native.pending;
  }
  get inFlight(): number {
    return this.native.inFlight;
  }
  get maxQueued(): number {
    return this.native.maxQueued;
  }

  /**
   * `outputs` (one per model output) lets the request write its results straight into the caller's arrays, which
   * must not be touched until the promise settles; without it the outputs are copied into fresh arrays.
   */
  startAsync<U = undefined>(input: AsyncInput, userData?: U, outputs?: AsyncOutput[]): Promise<InferResult<U>> {
    return this.native.startAsync(input, userData, outputs) as Promise<InferResult<U>>;
  }

  /** Rejects waiting jobs (PS_OV_QUEUE_RELEASED), lets in-flight ones finish, then frees the requests. */
  release(): Promise<void> {
    return this.native.release();
  }

  dispose(): Promise<void> {
    return this.native.release();
  }
}
