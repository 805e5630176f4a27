import { PosestreamError } from '../../pipeline/errors.js';
import type { EngineProfile } from './backends/backend.js';
import { EngineModeSelector, type EngineModeOptions } from './engine-mode.js';
import type { EngineFrame, EngineResult, PoseInference } from './pose-engine.js';

/**
 * model.hint ADAPTIVE: the same model compiled twice, for latency (one request on every core) and for throughput
 * (the runtime's optimal requests), and each batch run on the one that fits the load (workers/inference/
 * engine-mode.ts). One 5 fps camera gets its result about one single-request latency after capture; a full worker
 * reaches the throughput model's frames/s. Only one model runs at a time apart from a switch's last batches, so the
 * two do not fight over the cores.
 *
 * `requests` follows the mode (the Batcher reads it before each dispatch): 1 while latency runs, so frames that
 * arrive meanwhile gather into the next batch instead of queueing behind the running one.
 */
export interface AdaptiveEngineOptions {
  latency: PoseInference;
  throughput: PoseInference;
  /** Selector settings apart from the cost, which is measured on `latency` at creation. */
  mode?: Omit<EngineModeOptions, 'latencyCostPerFrameMs'>;
  /** A blank frame fitted inside the model input: what the cost is measured with. */
  probe: EngineFrame;
  onSwitch?: (mode: EngineProfile, load: number) => void;
  now?: () => number;
}

/** Single-frame inferences measured at creation; their median is the starting cost per frame. */
const PROBE_RUNS = 5;

export class AdaptiveEngine implements PoseInference {
  readonly capacity: number;
  readonly maxBatch: number;
  readonly precision: string;
  readonly device: string;
  private readonly engines: Record<EngineProfile, PoseInference>;
  private readonly running: Record<EngineProfile, number> = { latency: 0, throughput: 0 };
  private readonly now: () => number;
  private readonly onSwitch: AdaptiveEngineOptions['onSwitch'];

  private constructor(
    options: AdaptiveEngineOptions,
    private readonly selector: EngineModeSelector,
  ) {
    const { latency, throughput } = options;
    this.engines = { latency, throughput };
    // The Batcher sizes its bound once, from the larger of the two.
    this.capacity = throughput.capacity;
    this.maxBatch = Math.min(latency.maxBatch, throughput.maxBatch);
    this.precision = throughput.precision;
    this.device = throughput.device;
    this.now = options.now ?? (() => performance.now());
    this.onSwitch = options.onSwitch;
  }

  /** Measures the latency model's cost per frame, then starts in latency mode. Warm both models first (warmUpBatchSizes). */
  static async create(options: AdaptiveEngineOptions): Promise<AdaptiveEngine> {
    if (options.latency.maxBatch !== options.throughput.maxBatch) {
      throw new PosestreamError('PS_ENGINE_BAD_OPTION', `both models need the same batch size (${options.latency.maxBatch} vs ${options.throughput.maxBatch})`);
    }
    const costs: number[] = [];
    for (let run = 0; run < PROBE_RUNS; run += 1) costs.push((await options.latency.infer([options.probe])).inferMs);
    costs.sort((a, b) => a - b);
    const now = options.now ?? (() => performance.now());
    return new AdaptiveEngine(options, new EngineModeSelector({ ...options.mode, latencyCostPerFrameMs: Math.max(1, costs[PROBE_RUNS >> 1]!) }, now()));
  }

  get mode(): EngineProfile {
    return this.selector.mode;
  }

  get mostRequests(): number {
    return Math.max(this.engines.latency.requests, this.engines.throughput.requests);
  }

  get requests(): number {
    return this.engines[this.selector.mode].requests;
  }

  async infer(frames: EngineFrame[]): Promise<EngineResult> {
    const now = this.now();
    const before = this.selector.mode;
    let mode = this.selector.next(frames.length, now);
    if (mode === 'latency' && this.running.latency >= this.engines.latency.capacity) {
      this.selector.overflow(now);
      mode = this.selector.mode;
    }
    if (mode !== before) this.onSwitch?.(mode, this.selector.load(now));
    const alone = this.running.latency + this.running.throughput === 0;
    this.running[mode] += 1;
    try {
      const result = await this.engines[mode].infer(frames);
      if (mode === 'latency' && alone) this.selector.measured(frames.length, result.inferMs);
      return result;
    } finally {
      this.running[mode] -= 1;
    }
  }

  async dispose(): Promise<void> {
    await Promise.all([this.engines.latency.dispose(), this.engines.throughput.dispose()]);
  }
}
