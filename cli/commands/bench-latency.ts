import type { Command } from 'commander';
import { benchRedisTarget, positiveNumber, withPipelineBenchOptions } from '../bench/options.js';

/** `posestream bench latency`: see cli/bench/latency.ts. */
export function registerBench(bench: Command): void {
  withPipelineBenchOptions(
    bench
      .command('latency')
      .description('one live 30 fps source: p50/p99 capture-to-result latency with the per-stage breakdown')
      .option('--seconds <n>', 'measured seconds', '60')
      .option('--warmup <n>', 'seconds of results ignored first', '5')
      .option('--fps <n>', 'source frame rate (live, real time)', '30')
      .option('--batch <n>', 'worker.batchSize', '4')
      .option('--max-batch-wait <ms>', 'worker.maxBatchWaitMs', '0')
  )
    .action(async (options: Record<string, string | boolean | undefined>) => {
      const { runLatencyBench, formatLatencyBench } = await import('../bench/latency.js');
      const result = await runLatencyBench({
        model: String(options.model),
        seconds: positiveNumber(options.seconds, '--seconds'),
        warmup: Number(options.warmup ?? 5),
        fps: positiveNumber(options.fps, '--fps'),
        batch: positiveNumber(options.batch, '--batch'),
        maxBatchWaitMs: Number(options.maxBatchWait ?? 0),
        redis: benchRedisTarget(options),
      });
      process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${formatLatencyBench(result)}\n`);
      setTimeout(() => process.exit(0), 1_000).unref();
    });
}
