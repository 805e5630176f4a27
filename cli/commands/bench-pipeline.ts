import { Option, type Command } from 'commander';
import { MODEL_INPUT_FORMATS, type ModelInputFormat } from '../../pipeline/image/i420.js';
import { benchRedisTarget, positiveNumber, withPipelineBenchOptions } from '../bench/options.js';

/** `posestream bench pipeline`: see cli/bench/pipeline.ts. */
export function registerBench(bench: Command): void {
  withPipelineBenchOptions(
    bench
      .command('pipeline')
      .description('N lossless file streams through ingest + worker: aggregate results/s vs `bench engine` fps, same run')
      .option('--streams <n>', 'file streams at full speed', '4')
      .option('--seconds <n>', 'measured seconds of the pipeline (and of the engine baseline)', '30')
      .option('--warmup <n>', 'seconds of pipeline results ignored before measuring', '5')
      .option('--batch <n>', 'worker.batchSize (the engine baseline uses the same batch)', '4')
      .option('--no-tracking', "streams with tracking: { enabled: false } (default: tracked, as streams are by default)")
      .addOption(new Option('--input-format <format>', 'model.inputFormat: how frames travel through Redis (the engine baseline takes the same)').choices([...MODEL_INPUT_FORMATS]).default('i420'))
  )
    .action(async (options: Record<string, string | boolean | undefined>) => {
      const { runPipelineBench, formatPipelineBench } = await import('../bench/pipeline.js');
      const result = await runPipelineBench({
        model: String(options.model),
        streams: positiveNumber(options.streams, '--streams'),
        seconds: positiveNumber(options.seconds, '--seconds'),
        warmup: Number(options.warmup ?? 5),
        batch: positiveNumber(options.batch, '--batch'),
        redis: benchRedisTarget(options),
        tracking: options.tracking !== false,
        inputFormat: options.inputFormat as ModelInputFormat,
      });
      process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${formatPipelineBench(result)}\n`);
      // GStreamer/OpenVINO threads may outlive the roles; the numbers are printed, so leave.
      setTimeout(() => process.exit(0), 1_000).unref();
    });
}
