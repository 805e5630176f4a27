import type { Command } from 'commander';
import { positiveNumber, withPipelineBenchOptions } from '../bench/options.js';

/** `posestream bench soak`: see cli/bench/soak.ts. */
export function registerBench(bench: Command): void {
  withPipelineBenchOptions(
    bench
      .command('soak')
      .description('4 live looping streams for N minutes: Redis used_memory and each process RSS, start to end')
      .option('--minutes <n>', 'duration', '10')
      .option('--samples <n>', 'samples after the first (evenly spaced)', '10')
      .option('--retention <n>', 'results.retention per stream: small, so Redis reaches its bound before the first sample', '200')
      .option('--warmup <s>', 'seconds before the first sample', '60')
  )
    .action(async (options: Record<string, string | boolean | undefined>) => {
      const { runSoakBench, formatSoakBench } = await import('../bench/soak.js');
      const result = await runSoakBench({
        model: String(options.model),
        minutes: positiveNumber(options.minutes, '--minutes'),
        samples: positiveNumber(options.samples, '--samples'),
        retention: positiveNumber(options.retention, '--retention'),
        warmupS: Number(options.warmup ?? 60),
        redisUrl: String(options.redis),
      });
      process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${formatSoakBench(result)}\n`);
    });
}
