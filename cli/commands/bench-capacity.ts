import path from 'node:path';
import type { Command } from 'commander';
import { MODEL_HINTS } from '../../config/schema.js';
import { repoRoot } from '../../pipeline/assets.js';
import { PosestreamError } from '../../pipeline/errors.js';
import { benchRedisTarget, thenLeave, positiveInt, positiveNumber, withPipelineBenchOptions } from '../bench/options.js';

function hintOption(value: string): string {
  const hint = value.toUpperCase();
  if (!(MODEL_HINTS as readonly string[]).includes(hint)) throw new PosestreamError('PS_CLI_BAD_OPTION', `--hint must be one of ${MODEL_HINTS.join(', ')}, got ${value}`);
  return hint;
}

/** `posestream bench capacity`: see cli/bench/capacity.ts. */
export function registerBench(bench: Command): void {
  withPipelineBenchOptions(
    bench
      .command('capacity')
      .description('live RTSP cameras at --fps each, N growing until one falls under 95 % of its fps or p99 capture->result > 250 ms; then 1.5x that N')
      .option('--source <720p|360p|file>', 'what each camera sends: the walking clip at 1280x720 or scaled to 640x360, or a video file', '720p')
      .option('--fps <n>', 'frames per second per camera', '5')
      .option('--max <n>', 'stop the sweep at this many cameras', '24')
      .option('--step <n>', 'cameras added per step', '1')
      .option('--seconds <n>', 'measured seconds per step', '20')
      .option('--batch <n>', 'worker.batchSize (default: the config default)')
      .option('--hint <ADAPTIVE|THROUGHPUT|LATENCY>', 'model.hint (default: the config default)')
      .option('--chart <file.png>', 'the chart (results/s and p99 vs cameras)', path.join(repoRoot, 'build', 'bench', 'capacity.png'))
      .option('--no-chart', 'no chart')
      .option('--peer', 'also the same camera counts through one Ultralytics predict(stream=True) process per camera, same IR (needs the [ultralytics] extra)'),
  ).action(thenLeave(benchCapacity));
}

async function benchCapacity(options: Record<string, string | boolean | undefined>): Promise<void> {
  const { runCapacityBench, formatCapacityBench } = await import('../bench/capacity.js');
  if (options.peer) await (await import('../bench/peer.js')).requirePeer();
  const result = await runCapacityBench({
    model: String(options.model),
    source: String(options.source ?? '720p'),
    fps: positiveNumber(options.fps, '--fps'),
    max: positiveInt(options.max, '--max'),
    step: positiveInt(options.step, '--step'),
    seconds: positiveNumber(options.seconds, '--seconds'),
    ...(options.batch === undefined ? {} : { batch: positiveInt(options.batch, '--batch') }),
    ...(typeof options.hint === 'string' ? { hint: hintOption(options.hint) } : {}),
    redis: benchRedisTarget(options),
    ...(typeof options.chart === 'string' ? { chart: options.chart } : {}),
    peer: options.peer === true,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${formatCapacityBench(result)}\n`);
}
