import type { Command } from 'commander';
import { defaultModelPaths } from '../../pipeline/assets.js';
import { positiveInt } from '../bench/options.js';

/** `posestream bench engine`: see cli/bench/engine.ts. */
export function registerBench(bench: Command): void {
  bench
    .command('engine')
    .description('PoseEngine (AsyncInferQueue + padding + decode) fps and latency vs benchmark_app on the same model and shape')
    .option('--model <path>', 'OpenVINO IR or ONNX', defaultModelPaths.int8)
    .option('--seconds <n>', 'measured seconds for each of the two (split over the rounds)', '15')
    .option('--rounds <n>', 'alternate benchmark_app and engine windows this many times', '3')
    .option('--batch <n>', 'frames per request (dynamic batch when > 1)', '1')
    .option('--device <name>', 'OpenVINO device', 'CPU')
    .option('--precision <hint>', "INFERENCE_PRECISION_HINT for both runs: f32, bf16, f16 or 'default' (OpenVINO's choice)", 'default')
    .option('--requests <n>', 'infer requests (default: OPTIMAL_NUMBER_OF_INFER_REQUESTS, as benchmark_app)')
    .option('--no-benchmark-app', 'measure the engine only')
    .option('--json', 'print one JSON object')
    .action(async (options: Record<string, string | boolean | undefined>) => {
      const parsed = {
        model: String(options.model),
        seconds: positiveInt(options.seconds, '--seconds'),
        batch: positiveInt(options.batch, '--batch'),
        rounds: positiveInt(options.rounds, '--rounds'),
        device: String(options.device),
        precision: String(options.precision),
        ...(options.requests === undefined ? {} : { requests: positiveInt(options.requests, '--requests') }),
        skipBenchmarkApp: options.benchmarkApp === false,
        log: (line: string) => process.stderr.write(`${line}\n`),
      };
      const { runEngineBench, formatEngineBench } = await import('../bench/engine.js');
      const result = await runEngineBench(parsed);
      process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${formatEngineBench(result)}\n`);
    });
}
