import { assetPath } from '../../pipeline/assets.js';
import { frameBytes, frameFormatOf, type ModelInputFormat } from '../../pipeline/image/i420.js';
import { fitInside } from '../../pipeline/pose/letterbox.js';
import type { RedisTarget } from '../../pipeline/redis/client.js';
import { formatDecodeLimit, measureDecodeLimit, type DecodeLimit } from './decode-cost.js';

/**
 * `posestream bench pipeline`: N lossless file streams (the walking clip, looped, no fps cap) through ingest and an
 * inference worker in this process, aggregate results/s, against `bench engine` (PoseEngine alone, same model,
 * batch, requests and precision) measured right after it in the same process. Target: ratio >= 0.8. Then the
 * decoder alone on the same clip (decode-cost.ts): its CPU per frame gives the decode-inclusive limit, target
 * results/s >= 0.9 of it.
 */

export interface PipelineBenchResult extends DecodeLimit {
  results_per_s: number;
  engine_fps: number;
  ratio: number;
  per_stream_results_per_s: Record<string, number>;
  precision: string;
  engine_precision: string;
  model: string;
  batch: number;
  requests: number;
  streams: number;
  seconds: number;
  load_before: number[];
  tracking: boolean;
  /** model.inputFormat in force, and the pixel bytes of one frame on Redis in it (the walking clip's fitted size). */
  input_format: ModelInputFormat;
  frame_bytes: number;
}

export async function runPipelineBench(options: { model: string; streams: number; seconds: number; warmup: number; batch: number; redis: RedisTarget; tracking?: boolean; inputFormat?: ModelInputFormat }): Promise<PipelineBenchResult> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const { loadavg } = await import('node:os');
  const { createLogger } = await import('../../pipeline/obs/logger.js');
  const { runEngineBench } = await import('./engine.js');
  const { startIngest } = await import('../../workers/ingest/main.js');
  const { startWorker } = await import('../../workers/inference/main.js');
  const { writeBenchConfig, tapResults, sleep, openBenchRedis } = await import('./pipeline-support.js');
  const { duplicateClient } = await import('../../pipeline/redis/client.js');
  const loadBefore = loadavg();

  const ids = Array.from({ length: options.streams }, (_, i) => `bench-${i}`);
  const { config } = writeBenchConfig({
    redis: options.redis,
    model: options.model,
    batchSize: options.batch,
    ...(options.inputFormat ? { inputFormat: options.inputFormat } : {}),
    streams: ids.map((id) => ({ id, url: assetPath('walkingVideo'), mode: 'lossless', loop: true, tracking: { enabled: options.tracking ?? true } })),
  });
  const redis = await openBenchRedis(options.redis);
  const inputFormat = config.model.inputFormat;
  let frameSize: { width: number; height: number } | undefined;

  // The pipeline first, then the engine alone (both in this process, one after the other, same settings).
  const logger = createLogger('bench', 'warn');
  const worker = await startWorker(config, { logger });
  const requests = worker.engine?.requests ?? 0;
  const ingest = await startIngest(config, { logger });
  const counts = new Map(ids.map((id) => [id, 0]));
  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.POSITIVE_INFINITY;
  let first = true;
  const tap = tapResults(duplicateClient(redis), ids, (result, at) => {
    if (result.kind !== 'pose') return;
    // Ingest fits every frame this way (workers/ingest/main.ts), so the result's source size gives the frame's.
    frameSize ??= fitInside(result.sourceWidth, result.sourceHeight, config.model.inputSize);
    if (first) {
      first = false;
      windowStart = at + options.warmup * 1000;
      windowEnd = windowStart + options.seconds * 1000;
      log(`pipeline: first result; measuring ${options.seconds} s after ${options.warmup} s warm-up`);
    }
    if (at >= windowStart && at < windowEnd) counts.set(result.streamId, counts.get(result.streamId)! + 1);
  });
  while (Date.now() < windowEnd || first) await sleep(200);
  await tap.stop();
  await ingest.stop();
  await worker.stop();
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const resultsPerS = total / options.seconds;
  log(`pipeline: ${resultsPerS.toFixed(2)} results/s over ${options.streams} streams (precision ${worker.engine?.precision})`);

  const engine = await runEngineBench({
    model: options.model,
    seconds: options.seconds,
    batch: options.batch,
    device: config.model.device,
    precision: 'default',
    requests,
    inputFormat: frameFormatOf(inputFormat),
    skipBenchmarkApp: true,
    log,
  });
  redis.disconnect();
  const decodeLimit = await measureDecodeLimit({ url: assetPath('walkingVideo'), inputSize: config.model.inputSize, format: frameFormatOf(inputFormat), engineFps: engine.fps, resultsPerS, log });
  return {
    ...decodeLimit,
    results_per_s: resultsPerS,
    engine_fps: engine.fps,
    ratio: resultsPerS / engine.fps,
    per_stream_results_per_s: Object.fromEntries([...counts].map(([id, n]) => [id, n / options.seconds])),
    precision: worker.engine?.precision ?? '?',
    engine_precision: engine.precision,
    model: options.model,
    batch: options.batch,
    requests,
    streams: options.streams,
    seconds: options.seconds,
    load_before: loadBefore.map((l) => Number(l.toFixed(2))),
    tracking: options.tracking ?? true,
    input_format: inputFormat,
    frame_bytes: frameSize ? frameBytes(frameFormatOf(inputFormat), frameSize.width, frameSize.height) : 0,
  };
}

export function formatPipelineBench(r: PipelineBenchResult): string {
  const perStream = Object.entries(r.per_stream_results_per_s).map(([id, v]) => `${id} ${v.toFixed(1)}`).join(', ');
  return [
    `pipeline: ${r.results_per_s.toFixed(2)} results/s aggregate over ${r.streams} lossless file streams, tracking ${r.tracking ? 'on' : 'off'} (${perStream})`,
    `engine:   ${r.engine_fps.toFixed(2)} fps (bench engine, batch ${r.batch}, ${r.requests} requests)`,
    `ratio pipeline/engine = ${r.ratio.toFixed(3)} (target >= 0.8)`,
    formatDecodeLimit(r),
    `frames: ${r.input_format}, ${r.frame_bytes} bytes per frame through Redis`,
    `model ${r.model}, precision ${r.precision} (engine run: ${r.engine_precision}), CPU, ${r.seconds} s each; load before ${r.load_before.join(' ')}`,
  ].join('\n');
}
