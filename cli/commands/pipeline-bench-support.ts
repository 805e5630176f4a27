import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import type { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { loadConfig } from '../../config/load.js';
import type { PosestreamConfig } from '../../config/schema.js';
import type { StreamConfigInput } from '../../pipeline/streams/definition.js';
import { defaultModelPaths, repoRoot } from '../../pipeline/assets.js';
import type { StreamResult } from '../../pipeline/wire/v1.js';

/**
 * Shared by the pipeline benchmarks (bench-pipeline, bench-latency, bench-soak): a config on a dedicated Redis DB,
 * the model choice, percentiles and a result tap. Not a bench-*.ts file, so the bench hook does not load it.
 */

/** A DB of the test Redis that the benchmarks FLUSH before they start: never point this at production data. */
export const DEFAULT_BENCH_REDIS = 'redis://127.0.0.1:6390/25';

/** INT8 IR when it has been made (the deployment choice), else the FP32 IR. */
export function defaultBenchModel(): string {
  return existsSync(defaultModelPaths.int8) ? defaultModelPaths.int8 : defaultModelPaths.fp32;
}

/** The options every pipeline benchmark takes, after its own: which model, which Redis DB to flush, JSON output. */
export function withPipelineBenchOptions(command: Command): Command {
  return command
    .option('--model <path>', 'OpenVINO IR (default: the INT8 IR if built, else FP32)', defaultBenchModel())
    .option('--redis <url>', 'a Redis DB this benchmark may FLUSH', DEFAULT_BENCH_REDIS)
    .option('--json', 'print one JSON object');
}

export interface BenchConfigInput {
  redisUrl: string;
  model: string;
  streams: StreamConfigInput[];
  batchSize?: number;
  maxBatchWaitMs?: number;
  inferRequests?: number;
  gatewayPort?: number;
  /** results.retention per stream (default the config default). */
  retention?: number;
}

/** Writes the config to a temporary file (child processes read it too) and loads it like the CLI does. */
export function writeBenchConfig(input: BenchConfigInput): { file: string; config: PosestreamConfig } {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'posestream-bench-')), 'posestream.yaml');
  writeFileSync(
    file,
    stringify({
      redis: { url: input.redisUrl },
      model: { path: input.model, cacheDir: path.join(repoRoot, 'build', 'ov-cache') },
      worker: {
        batchSize: input.batchSize ?? 4,
        maxBatchWaitMs: input.maxBatchWaitMs ?? 10,
        ...(input.inferRequests === undefined ? {} : { inferRequests: input.inferRequests }),
      },
      gateway: { host: '127.0.0.1', port: input.gatewayPort ?? 0 },
      ...(input.retention === undefined ? {} : { results: { retention: input.retention } }),
      streams: input.streams,
    }),
  );
  return { file, config: loadConfig(file).config };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Follows the results of some streams from now until stop(), calling onResult with each and its arrival time. */
export function tapResults(redis: Redis, streamIds: string[], onResult: (result: StreamResult, receivedAt: number) => void): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    const { ResultReader } = await import('../../pipeline/redis/result-stream.js');
    const reader = new ResultReader(redis);
    const cursors = new Map<string, string>();
    for (const id of streamIds) cursors.set(id, await reader.tailId(id));
    while (running) {
      for (const batch of await reader.follow(cursors, 200)) {
        cursors.set(batch.streamId, batch.lastId);
        const now = Date.now();
        for (const entry of batch.entries) onResult(entry.result, now);
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

export function positiveNumber(value: unknown, name: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${String(value)}`);
  return n;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
