import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { defaultModelPaths } from '../../pipeline/assets.js';
import { PosestreamError } from '../../pipeline/errors.js';

/**
 * Options the `posestream bench` commands share. Light on purpose: every CLI start loads the commands that use it
 * (heavy modules are imported inside their actions).
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
    .option('--redis-cluster <urls>', 'instead of --redis: a Redis Cluster (comma-separated node URLs) this benchmark may FLUSH entirely')
    .option('--json', 'print one JSON object');
}

/** The Redis the benchmark runs on: --redis-cluster when given, else --redis. */
export function benchRedisTarget(options: { redis?: unknown; redisCluster?: unknown }): { url: string } | { cluster: string[] } {
  if (typeof options.redisCluster === 'string' && options.redisCluster.trim() !== '') {
    return { cluster: options.redisCluster.split(',').map((url) => url.trim()).filter((url) => url !== '') };
  }
  return { url: String(options.redis ?? DEFAULT_BENCH_REDIS) };
}

export function positiveNumber(value: unknown, name: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new PosestreamError('PS_CLI_BAD_OPTION', `${name} must be a positive number, got ${String(value)}`);
  return n;
}

export function positiveInt(value: unknown, name: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new PosestreamError('PS_CLI_BAD_OPTION', `${name} must be a positive integer, got ${String(value)}`);
  return number;
}

/**
 * The action of a bench command that runs pipeline roles in this process: GStreamer/OpenVINO threads may outlive the
 * roles, so once the numbers (or the error) are out, the process leaves.
 */
export function thenLeave(run: (options: Record<string, string | boolean | undefined>) => Promise<void>) {
  return async (options: Record<string, string | boolean | undefined>): Promise<void> => {
    try {
      await run(options);
    } finally {
      setTimeout(() => process.exit(), 1_000).unref();
    }
  };
}
