import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../pipeline/assets.js';
import { PosestreamError } from '../../pipeline/errors.js';
import { runProcess } from './processes.js';

/**
 * OpenVINO's benchmark_app (from the project venv, or POSESTREAM_BENCHMARK_APP): the baseline our engine and queue
 * are measured against in the same run. Numbers come from its JSON report, the precision in force from its log.
 */
export interface BenchmarkAppOptions {
  model: string;
  device: string;
  /** The input shape, e.g. [1, 3, 640, 640]. */
  shape: number[];
  seconds: number;
  /** -nireq; default: what the hint picks (OPTIMAL_NUMBER_OF_INFER_REQUESTS). */
  requests?: number;
  /** -infer_precision; undefined or 'default' lets OpenVINO choose. */
  precision?: string;
  hint?: 'throughput' | 'latency';
}

export interface BenchmarkAppResult {
  fps: number;
  requests: number;
  /** INFERENCE_PRECISION_HINT in force (f32, bf16, ...), null when the log did not say. */
  precision: string | null;
}

const PRECISION_LINE = /^\[ INFO \]\s+INFERENCE_PRECISION_HINT:\s*(.+?)\s*$/m;
const TYPE_NAMES: Record<string, string> = { float32: 'f32', bfloat16: 'bf16', float16: 'f16' };

export function benchmarkAppBinary(): string {
  return process.env.POSESTREAM_BENCHMARK_APP ?? path.join(repoRoot, '.venv', 'bin', 'benchmark_app');
}

export async function runBenchmarkApp(options: BenchmarkAppOptions): Promise<BenchmarkAppResult> {
  const binary = benchmarkAppBinary();
  const folder = await mkdtemp(path.join(tmpdir(), 'posestream-benchmark-app-'));
  const args = [
    '-m', options.model, '-d', options.device, '-api', 'async', '-hint', options.hint ?? 'throughput',
    '-shape', `[${options.shape.join(',')}]`, '-t', String(options.seconds),
    '-report_type', 'no_counters', '-report_folder', folder, '-json_stats',
    ...(options.requests === undefined ? [] : ['-nireq', String(options.requests)]),
    ...(options.precision === undefined || options.precision === 'default' ? [] : ['-infer_precision', options.precision]),
  ];
  try {
    const run = await runProcess(binary, args);
    let report: { execution_results?: { throughput?: number | string }; configuration_setup?: Record<string, unknown> };
    try {
      report = JSON.parse(await readFile(path.join(folder, 'benchmark_report.json'), 'utf8')) as typeof report;
    } catch {
      const tail = [...run.stdout.split('\n').slice(-3), ...run.stderr.split('\n').slice(-3)].filter(Boolean).join('; ');
      throw new PosestreamError('PS_BENCH_TOOL_FAILED', `benchmark_app failed on ${options.model} (exit ${run.code}): ${tail}`);
    }
    const type = PRECISION_LINE.exec(run.stdout)?.[1]?.match(/'([^']+)'/)?.[1];
    return {
      fps: Number(report.execution_results?.throughput),
      requests: Number(report.configuration_setup?.['number of parallel infer requests']),
      precision: type ? (TYPE_NAMES[type] ?? type) : null,
    };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
