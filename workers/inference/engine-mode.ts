import type { EngineProfile } from './backends/backend.js';

/**
 * Which of a worker's two compiled models runs the next batch (model.hint ADAPTIVE, workers/inference/
 * adaptive-engine.ts): the one compiled for latency (one request using every core: a lone camera's frame is done in
 * about one single-request latency) or the one compiled for throughput (a request per core: ~20 % more frames/s on
 * a CPU, each taking about twice as long). Pure: the caller passes the clock.
 *
 * The load is the share of the latency model's time the recent frames would need: frames inferred in the last
 * `windowMs` times its cost per frame (measured on it). Above `upShare` switch to throughput: low (0.4), because a
 * latency model spread over every core slows down as soon as anything else (decoders, the event loop) wants a core,
 * and its frames queue behind each other where the throughput model would run two side by side. Back under `downShare`, and only after `minDwellMs` in throughput, switch back: the gap and the dwell
 * keep a load near the threshold from flapping between the two (each switch costs a few slower batches).
 */

export interface EngineModeOptions {
  /** Milliseconds of the latency model per frame (batch of one): its measured single-request latency. */
  latencyCostPerFrameMs: number;
  windowMs?: number;
  upShare?: number;
  downShare?: number;
  minDwellMs?: number;
}

export const ENGINE_MODE_DEFAULTS = { windowMs: 2_000, upShare: 0.4, downShare: 0.2, minDwellMs: 5_000 } as const;

/** Weight of a new measurement in the running cost per frame. */
const COST_SMOOTHING = 0.2;

export class EngineModeSelector {
  private current: EngineProfile = 'latency';
  private since: number;
  private costPerFrameMs: number;
  /** [time, frames] of the batches in the window, oldest first. */
  private readonly batches: Array<[number, number]> = [];
  private framesInWindow = 0;
  private readonly settings: Required<Omit<EngineModeOptions, 'latencyCostPerFrameMs'>>;

  constructor(options: EngineModeOptions, now: number) {
    if (!(options.latencyCostPerFrameMs > 0)) throw new RangeError('latencyCostPerFrameMs must be > 0');
    this.costPerFrameMs = options.latencyCostPerFrameMs;
    this.settings = { ...ENGINE_MODE_DEFAULTS, ...stripUndefined(options) };
    this.since = now;
  }

  get mode(): EngineProfile {
    return this.current;
  }

  /** Share of the latency model's time the frames of the last window need (1 = it would be busy all the time). */
  load(now: number): number {
    this.forget(now);
    return (this.framesInWindow * this.costPerFrameMs) / this.settings.windowMs;
  }

  /** A batch of `frames` is about to run. Returns the mode it runs in (switching first when the load says so). */
  next(frames: number, now: number): EngineProfile {
    this.batches.push([now, frames]);
    this.framesInWindow += frames;
    const load = this.load(now);
    if (this.current === 'latency' && load > this.settings.upShare) this.switchTo('throughput', now);
    else if (this.current === 'throughput' && load < this.settings.downShare && now - this.since >= this.settings.minDwellMs) this.switchTo('latency', now);
    return this.current;
  }

  /** The latency model has no room for the batch (requests and its queue full): that is load, whatever the window says. */
  overflow(now: number): void {
    if (this.current === 'latency') this.switchTo('throughput', now);
  }

  /** A batch of `frames` took `ms` on the latency model without waiting for a request: keeps the cost current. */
  measured(frames: number, ms: number): void {
    if (frames < 1 || !(ms > 0)) return;
    this.costPerFrameMs += COST_SMOOTHING * (ms / frames - this.costPerFrameMs);
  }

  private switchTo(mode: EngineProfile, now: number): void {
    this.current = mode;
    this.since = now;
  }

  private forget(now: number): void {
    while (this.batches.length > 0 && now - this.batches[0]![0] > this.settings.windowMs) {
      this.framesInWindow -= this.batches.shift()![1];
    }
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
