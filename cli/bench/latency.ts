import { assetPath } from '../../pipeline/assets.js';
import { summarize, type Summary } from './stats.js';

/**
 * `posestream bench latency`: one live 30 fps source (the walking clip, looped) through ingest and a worker in this
 * process; p50/p99 capture-to-result latency (worker publish time, and arrival at a Redis reader) with the
 * per-stage breakdown the results carry (decode, queue, infer, post).
 */

type Stats = Summary;
export interface LatencyBenchResult {
  results: number;
  results_per_s: number;
  /** Frames the live queue or the worker dropped (gaps in seq). */
  dropped: number;
  capture_to_publish_ms: Stats;
  capture_to_reader_ms: Stats;
  stages_ms: Record<'decode' | 'queue' | 'infer' | 'post', Stats>;
  precision: string;
  model: string;
  fps: number;
  batch: number;
  seconds: number;
  load_before: number[];
}

export async function runLatencyBench(options: { model: string; seconds: number; warmup: number; fps: number; batch: number; maxBatchWaitMs: number; redisUrl: string }): Promise<LatencyBenchResult> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const { loadavg } = await import('node:os');
  const { Redis } = await import('ioredis');
  const { createLogger } = await import('../../pipeline/obs/logger.js');
  const { startIngest } = await import('../../workers/ingest/main.js');
  const { startWorker } = await import('../../workers/inference/main.js');
  const { writeBenchConfig, tapResults, sleep } = await import('./pipeline-support.js');
  const loadBefore = loadavg();
  const { config } = writeBenchConfig({
    redisUrl: options.redisUrl,
    model: options.model,
    batchSize: options.batch,
    maxBatchWaitMs: options.maxBatchWaitMs,
    streams: [{ id: 'live', url: assetPath('walkingVideo'), mode: 'live', loop: true, fps: options.fps }],
  });
  const redis = new Redis(options.redisUrl);
  await redis.flushdb();
  const logger = createLogger('bench', 'warn');
  const worker = await startWorker(config, { logger });
  const ingest = await startIngest(config, { logger });

  const samples: Array<{ publish: number; reader: number; decode: number; queue: number; infer: number; post: number }> = [];
  let firstSeq = -1;
  let lastSeq = -1;
  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.POSITIVE_INFINITY;
  const tap = tapResults(new Redis(options.redisUrl), ['live'], (result, receivedAt) => {
    if (result.kind !== 'pose') return;
    if (windowStart === Number.POSITIVE_INFINITY) {
      windowStart = receivedAt + options.warmup * 1000;
      windowEnd = windowStart + options.seconds * 1000;
      log(`latency: first result; measuring ${options.seconds} s after ${options.warmup} s warm-up`);
    }
    if (receivedAt < windowStart || receivedAt >= windowEnd) return;
    if (firstSeq < 0) firstSeq = result.seq;
    lastSeq = result.seq;
    const t = result.timings;
    samples.push({
      publish: result.publishedTs - result.captureTs,
      reader: receivedAt - result.captureTs,
      decode: t.decodeMs,
      queue: t.queueMs,
      infer: t.inferMs,
      post: t.postMs,
    });
  });
  while (Date.now() < windowEnd) await sleep(200);
  await tap.stop();
  await ingest.stop();
  await worker.stop();
  redis.disconnect();

  const stats = (key: keyof (typeof samples)[number]): Stats => summarize(samples.map((s) => s[key]));
  return {
    results: samples.length,
    results_per_s: samples.length / options.seconds,
    dropped: lastSeq >= firstSeq && firstSeq >= 0 ? lastSeq - firstSeq + 1 - samples.length : 0,
    capture_to_publish_ms: stats('publish'),
    capture_to_reader_ms: stats('reader'),
    stages_ms: { decode: stats('decode'), queue: stats('queue'), infer: stats('infer'), post: stats('post') },
    precision: worker.engine?.precision ?? '?',
    model: options.model,
    fps: options.fps,
    batch: options.batch,
    seconds: options.seconds,
    load_before: loadBefore.map((l) => Number(l.toFixed(2))),
  };
}

export function formatLatencyBench(r: LatencyBenchResult): string {
  const row = (name: string, s: Stats) => `  ${name.padEnd(26)} p50 ${s.p50.toFixed(1).padStart(7)} ms   p99 ${s.p99.toFixed(1).padStart(7)} ms   mean ${s.mean.toFixed(1).padStart(7)} ms`;
  return [
    `latency: one live ${r.fps} fps source, ${r.results} results in ${r.seconds} s (${r.results_per_s.toFixed(1)}/s, ${r.dropped} frames dropped as stale)`,
    row('capture -> result published', r.capture_to_publish_ms),
    row('capture -> result at reader', r.capture_to_reader_ms),
    row('stage decode', r.stages_ms.decode),
    row('stage queue', r.stages_ms.queue),
    row('stage infer', r.stages_ms.infer),
    row('stage post', r.stages_ms.post),
    `model ${r.model}, precision ${r.precision}, CPU, batch ${r.batch}; load before ${r.load_before.join(' ')}`,
  ].join('\n');
}
