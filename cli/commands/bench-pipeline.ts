import { Option, type Command } from 'commander';
import { MODEL_INPUT_FORMATS, type ModelInputFormat } from '../../pipeline/image/i420.js';
import { benchRedisTarget, thenLeave, positiveNumber, withPipelineBenchOptions } from '../bench/options.js';

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
      .option('--peer', 'also one lossless stream vs one Ultralytics predict(stream=True) loop on the same IR and clip, frames/s and ratio (needs the [ultralytics] extra)')
  )
    .action(thenLeave(benchPipeline));
}

async function benchPipeline(options: Record<string, string | boolean | undefined>): Promise<void> {
  const { runPipelineBench, formatPipelineBench } = await import('../bench/pipeline.js');
  const peerBench = options.peer ? await import('../bench/peer.js') : undefined;
  await peerBench?.requirePeer();
  const run = {
    model: String(options.model),
    streams: positiveNumber(options.streams, '--streams'),
    seconds: positiveNumber(options.seconds, '--seconds'),
    warmup: Number(options.warmup ?? 5),
    batch: positiveNumber(options.batch, '--batch'),
    redis: benchRedisTarget(options),
    tracking: options.tracking !== false,
    inputFormat: options.inputFormat as ModelInputFormat,
  };
  const result = await runPipelineBench(run);
  let text = formatPipelineBench(result);
  let output: object = result;
  if (peerBench) {
    const { assetPath } = await import('../../pipeline/assets.js');
    const log = (line: string) => process.stderr.write(`${line}\n`);
    // One lossless stream of the same pipeline (this run's own when it had one), then the Ultralytics loop.
    const single = result.streams === 1 ? result : await runPipelineBench({ ...run, streams: 1 });
    const peer = await peerBench.runPipelinePeer({ model: run.model, video: assetPath('walkingVideo'), seconds: run.seconds, warmup: run.warmup, single, log });
    text += `\n${peerBench.formatPipelinePeer(peer)}`;
    output = { ...result, peer };
  }
  process.stdout.write(options.json ? `${JSON.stringify(output)}\n` : `${text}\n`);
}
