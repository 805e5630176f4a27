import type { Command } from 'commander';
import { defaultModelPaths } from '../../pipeline/assets.js';

/**
 * `posestream eval track --video V --gt GT [--model M] [--peers] [--json]`: tracking quality of the real pipeline on
 * a video with MOT ground truth (cli/eval/track-eval.ts). Registered under `eval`; light at the top level (the
 * pipeline is imported inside the action).
 */
interface TrackEvalCliOptions {
  video: string;
  gt: string;
  model: string;
  redis: string;
  out?: string;
  peers?: boolean;
  peersPython?: string;
  json?: boolean;
}

/** A DB of the test Redis that this command FLUSHes (before and after): never point it at production data. */
export const DEFAULT_EVAL_REDIS = 'redis://127.0.0.1:6390/26';

export function registerEvalTrackCommand(evalCommand: Command): void {
  evalCommand
    .command('track')
    .description('IDF1 / MOTA / ID switches of the tracker through the real pipeline (lossless) on a video with MOT ground truth')
    .requiredOption('--video <path>', 'video file')
    .requiredOption('--gt <path>', 'MOT ground truth (frame,id,left,top,width,height,...; video frame n = gt frame n+1)')
    .option('--model <path>', 'OpenVINO IR', defaultModelPaths.int8)
    .option('--redis <url>', 'a Redis DB this command may FLUSH', DEFAULT_EVAL_REDIS)
    .option('--out <dir>', 'keep the MOT predictions here (default: a temporary folder)')
    .option('--peers', "also run Ultralytics' ByteTrack, BoT-SORT and OC-SORT (needs the models [ultralytics] extra)")
    .option('--peers-python <path>', 'Python with the [ultralytics] extra (default: the models toolchain Python)')
    .option('--json', 'print one JSON object {frames, idf1, mota, id_switches, precision, recall, tracker_ms_per_frame}')
    .action(async (options: TrackEvalCliOptions) => {
      const { formatTrackEval, runTrackEval } = await import('../eval/track-eval.js');
      const result = await runTrackEval({
        video: options.video,
        gt: options.gt,
        model: options.model,
        redisUrl: options.redis,
        ...(options.out ? { out: options.out } : {}),
        ...(options.peers ? { peers: true } : {}),
        ...(options.peersPython ? { peersPython: options.peersPython } : {}),
        log: (line) => process.stderr.write(`${line}\n`),
      });
      if (options.json) {
        const { predictions: _file, ...json } = result;
        process.stdout.write(`${JSON.stringify(json)}\n`);
      } else {
        process.stdout.write(`${formatTrackEval(result)}\n`);
      }
      // The worker's and ingest's handles are closed; a lingering timer must not keep the CLI alive.
      setTimeout(() => process.exit(process.exitCode ?? 0), 1_000).unref();
    });
}
