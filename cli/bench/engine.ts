import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { assetPath } from '../../pipeline/assets.js';
import { PosestreamError } from '../../pipeline/errors.js';
import { rgbToI420, type FrameFormat } from '../../pipeline/image/i420.js';
import type { EngineFrame } from '../../workers/inference/pose-engine.js';
import { runBenchmarkApp, type BenchmarkAppResult } from './benchmark-app.js';
import { percentile } from './stats.js';

/**
 * The engine benchmark (`posestream bench engine`, test/bench/engine.bench.ts): PoseEngine throughput/latency on real letterboxed frames versus OpenVINO's own
 * benchmark_app on the same model, batch shape, hint and precision, in one run. The ratio answers "does our
 * queue, padding and decoding cost throughput?". Run under `flock /tmp/ps/bench.lock` on shared machines.
 */
export interface EngineBenchOptions {
  model: string;
  seconds: number;
  batch: number;
  device: string;
  precision: string;
  requests?: number;
  /** Layout of the engine's input (default rgb24); i420 frames are converted from the images once, up front. */
  inputFormat?: FrameFormat;
  /** benchmark_app and engine windows alternate this many times (default 3). */
  rounds?: number;
  skipBenchmarkApp?: boolean;
  log?: (line: string) => void;
}

export interface EngineBenchResult {
  fps: number;
  latency_ms: { p50: number; p99: number };
  benchmark_app_fps: number | null;
  ratio: number | null;
  /** INFERENCE_PRECISION_HINT in force in the engine (read back from the compiled model). */
  precision: string;
  benchmark_app_precision: string | null;
  /** What both were asked for: 'default' lets OpenVINO choose. */
  precision_requested: string;
  batch: number;
  requests: number;
  device: string;
  model: string;
  seconds: number;
  rounds: number;
  /** engine fps / benchmark_app fps of each round: their spread shows how noisy the machine was. */
  round_ratios: number[];
  frames: number;
}

/** Real frames: shared images decoded and fitted exactly as `posestream infer` does (cycled during the run). */
async function loadFrames(size: number, format: FrameFormat, log: (line: string) => void): Promise<EngineFrame[]> {
  const { readFittedImage } = await import('../../pipeline/image/read-image.js');
  const files = [assetPath('busImage'), assetPath('zidaneImage')];
  const coco = path.join(assetPath('cocoMini'), 'val2017');
  try {
    files.push(...(await readdir(coco)).filter((name) => name.endsWith('.jpg')).sort().slice(0, 30).map((name) => path.join(coco, name)));
  } catch {
    log(`bench engine: ${coco} not found; using bus.jpg and zidane.jpg only`);
  }
  const frames: EngineFrame[] = [];
  for (const file of files) {
    try {
      const fitted = await readFittedImage(file, size);
      frames.push(format === 'i420' ? { ...fitted, pixels: rgbToI420(fitted.pixels, fitted.width, fitted.height), format } : fitted);
    } catch (error) {
      log(`bench engine: skipping ${file}: ${(error as Error).message}`);
    }
  }
  if (frames.length === 0) throw new PosestreamError('PS_BENCH_NO_FRAMES', `no benchmark images found (looked for ${files[0]})`);
  return frames;
}

interface EngineWindow {
  frames: number;
  seconds: number;
}

/** The engine compiled once, measured in windows between benchmark_app rounds. */
async function openEngine(options: EngineBenchOptions, log: (line: string) => void) {
  const { PoseEngine } = await import('../../workers/inference/pose-engine.js');
  const engine = await PoseEngine.create({
    modelPath: options.model,
    device: options.device,
    settings: { openvino: { hint: 'THROUGHPUT' } },
    maxBatch: options.batch,
    precision: options.precision,
    ...(options.requests === undefined ? {} : { inferRequests: options.requests }),
    inputFormat: options.inputFormat ?? 'rgb24',
  });
  const frames = await loadFrames(engine.inputSize, engine.inputFormat, log);
  log(`engine: ${engine.requests} requests, batch ${engine.maxBatch}, precision ${engine.precision}, ${frames.length} distinct frames`);
  let next = 0;
  const batchOf = (): EngineFrame[] => Array.from({ length: options.batch }, () => frames[next++ % frames.length]!);
  // Every buffer busy: each request has a job running and one queued, like a worker with frames backed up.
  const runFor = async (ms: number, latencies: number[] | null): Promise<EngineWindow> => {
    const t0 = performance.now();
    const deadline = t0 + ms;
    let done = 0;
    const lane = async (): Promise<void> => {
      while (performance.now() < deadline) {
        const start = performance.now();
        await engine.infer(batchOf());
        latencies?.push(performance.now() - start);
        done += options.batch;
      }
    };
    await Promise.all(Array.from({ length: engine.capacity }, lane));
    return { frames: done, seconds: (performance.now() - t0) / 1000 };
  };
  return { engine, runFor };
}

/**
 * Alternates `rounds` windows of benchmark_app and of the engine (seconds / rounds each) so that load from other
 * processes on a shared machine hits both alike; the engine is compiled and warmed up once.
 */
export async function runEngineBench(options: EngineBenchOptions): Promise<EngineBenchResult> {
  const log = options.log ?? (() => {});
  const rounds = Math.max(1, options.rounds ?? 3);
  const windowSeconds = Math.max(3, Math.round(options.seconds / rounds));
  const { engine, runFor } = await openEngine(options, log);
  try {
    await runFor(2000, null);
    const latencies: number[] = [];
    const windows: EngineWindow[] = [];
    const references: BenchmarkAppResult[] = [];
    for (let round = 1; round <= rounds; round++) {
      if (!options.skipBenchmarkApp) {
        const reference = await runBenchmarkApp({
          model: options.model,
          device: options.device,
          shape: [options.batch, 3, engine.inputSize, engine.inputSize],
          seconds: windowSeconds,
          precision: options.precision,
          ...(options.requests === undefined ? {} : { requests: options.requests }),
        });
        references.push(reference);
        log(`round ${round}/${rounds} benchmark_app: ${reference.fps.toFixed(2)} fps (precision ${reference.precision ?? '?'})`);
      }
      const window = await runFor(windowSeconds * 1000, latencies);
      windows.push(window);
      log(`round ${round}/${rounds} engine: ${(window.frames / window.seconds).toFixed(2)} fps`);
    }
    latencies.sort((a, b) => a - b);
    const frames = windows.reduce((n, w) => n + w.frames, 0);
    const fps = frames / windows.reduce((n, w) => n + w.seconds, 0);
    const referenceFps = references.length > 0 ? references.reduce((n, r) => n + r.fps, 0) / references.length : null;
    return {
      fps,
      latency_ms: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
      benchmark_app_fps: referenceFps,
      ratio: referenceFps ? fps / referenceFps : null,
      precision: engine.precision,
      benchmark_app_precision: references[0]?.precision ?? null,
      precision_requested: options.precision,
      batch: options.batch,
      requests: engine.requests,
      device: options.device,
      model: options.model,
      seconds: windowSeconds * rounds,
      rounds,
      round_ratios: references.map((r, i) => windows[i]!.frames / windows[i]!.seconds / r.fps),
      frames,
    };
  } finally {
    await engine.dispose();
  }
}

export function formatEngineBench(result: EngineBenchResult): string {
  const lines = [
    `engine: ${result.fps.toFixed(2)} fps, latency p50 ${result.latency_ms.p50.toFixed(1)} ms p99 ${result.latency_ms.p99.toFixed(1)} ms ` +
      `(batch ${result.batch}, ${result.requests} requests, precision ${result.precision}, ${result.device})`,
  ];
  if (result.benchmark_app_fps !== null && result.ratio !== null) {
    lines.push(`benchmark_app: ${result.benchmark_app_fps.toFixed(2)} fps (precision ${result.benchmark_app_precision ?? '?'})`);
    lines.push(`ratio engine/benchmark_app = ${result.ratio.toFixed(3)} (target >= 0.95); per round ${result.round_ratios.map((r) => r.toFixed(2)).join(' ')}`);
  }
  return lines.join('\n');
}
