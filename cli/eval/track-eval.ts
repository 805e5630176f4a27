import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../pipeline/assets.js';
import { PosestreamError } from '../../pipeline/errors.js';
import { motText, type MotBox } from '../../pipeline/tracking/mot-format.js';
import type { PoseResult } from '../../pipeline/wire/v1.js';
import { modelsPython } from '../commands/models.js';

/**
 * `posestream eval track`: a video through the real TypeScript path (ingest's decoder, lossless, the inference
 * worker with its tracking stage, Redis) on a private Redis DB, the published track ids written as MOT
 * predictions (frame = seq + 1), scored by the models/ toolchain (py-motmetrics, IoU 0.5). With `peers`, the
 * Ultralytics trackers run on the same IR and confidence and are scored the same way.
 */
export interface TrackEvalOptions {
  video: string;
  gt: string;
  model: string;
  /** A Redis DB this command may FLUSH. */
  redisUrl: string;
  /** Keep the predictions here (default: a temporary folder). */
  out?: string;
  peers?: boolean;
  /** Python with the [ultralytics] extra for the peers (default: the toolchain's). */
  peersPython?: string;
  timeoutSec?: number;
  log?: (line: string) => void;
}

export interface TrackScores {
  frames: number;
  idf1: number;
  mota: number;
  id_switches: number;
  precision: number;
  recall: number;
}

export interface TrackEvalResult extends TrackScores {
  tracker_ms_per_frame: number;
  predictions: string;
  peers?: Array<TrackScores & { tracker: string }>;
}

const STREAM_ID = 'eval-track';

export async function runTrackEval(options: TrackEvalOptions): Promise<TrackEvalResult> {
  for (const [what, file] of [['video', options.video], ['ground truth', options.gt], ['model', options.model]] as const) {
    if (!existsSync(file)) throw new PosestreamError('PS_EVAL_NOT_FOUND', `${what} not found: ${file}`);
  }
  const log = options.log ?? (() => undefined);
  const results = await runPipeline(options, log);
  if (results.length === 0) throw new PosestreamError('PS_EVAL_NO_FRAMES', `${options.video}: the pipeline produced no results (not a video?)`);
  const out = options.out ?? (await mkdtemp(path.join(tmpdir(), 'posestream-eval-track-')));
  mkdirSync(out, { recursive: true });
  const predictions = path.join(out, 'posestream.txt');
  writeFileSync(predictions, motText(motBoxes(results)));
  const scores = await scoreMot(options.gt, predictions);
  const trackMs = results.map((r) => r.timings.trackMs ?? 0);
  const result: TrackEvalResult = {
    ...scores,
    tracker_ms_per_frame: Math.round((trackMs.reduce((a, b) => a + b, 0) / trackMs.length) * 10_000) / 10_000,
    predictions,
  };
  if (options.peers) {
    log('peers: running Ultralytics ByteTrack, BoT-SORT, OC-SORT on the same model');
    result.peers = await runPeers(options, out);
  }
  return result;
}

/** Starts a worker and ingest in this process on a flushed private DB, collects every result until end-of-stream. */
async function runPipeline(options: TrackEvalOptions, log: (line: string) => void): Promise<PoseResult[]> {
  const { Redis } = await import('ioredis');
  const { createLogger } = await import('../../pipeline/obs/logger.js');
  const { ResultReader } = await import('../../pipeline/redis/result-stream.js');
  const { startIngest } = await import('../../workers/ingest/main.js');
  const { startWorker } = await import('../../workers/inference/main.js');
  const { writeBenchConfig } = await import('../bench/pipeline-support.js');
  const { config } = writeBenchConfig({
    redis: { url: options.redisUrl },
    model: options.model,
    streams: [{ id: STREAM_ID, url: path.resolve(options.video), mode: 'lossless' }],
    // Every result of the clip stays readable until it is collected.
    retention: 100_000,
  });
  const redis = new Redis(options.redisUrl);
  const logger = createLogger('eval', 'warn');
  // Connection trouble surfaces as the failing command's error; the event would otherwise be an unhandled one.
  redis.on('error', () => undefined);
  const results: PoseResult[] = [];
  try {
    await redis.flushdb();
    const worker = await startWorker(config, { logger });
    const ingest = await startIngest(config, { logger });
    log(`pipeline: ${options.video} through ingest + worker (lossless, tracking on)`);
    try {
      const reader = new ResultReader(redis);
      const cursors = new Map([[STREAM_ID, '0-0']]);
      const deadline = Date.now() + (options.timeoutSec ?? 600) * 1000;
      for (let ended = false; !ended; ) {
        if (Date.now() > deadline) throw new PosestreamError('PS_EVAL_TIMEOUT', `no end of stream after ${options.timeoutSec ?? 600} s (${results.length} results)`);
        for (const batch of await reader.follow(cursors, 250)) {
          cursors.set(batch.streamId, batch.lastId);
          for (const { result } of batch.entries) {
            if (result.kind === 'eos') ended = true;
            else results.push(result);
          }
        }
      }
    } finally {
      await ingest.stop();
      await worker.stop();
    }
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
  return results;
}

/** Tracked persons as MOT boxes: seq n is video frame n, ground-truth frame n + 1. */
export function motBoxes(results: readonly PoseResult[]): MotBox[] {
  return results.flatMap((r) =>
    r.persons.flatMap((p) => (p.trackId === undefined ? [] : [{ frame: r.seq + 1, id: p.trackId, box: p.box, score: p.score }])),
  );
}

function runPython(python: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, PYTHONPATH: [path.join(repoRoot, 'models', 'src'), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter) };
    const child = spawn(python, ['-m', 'posestream_models', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (error) => reject(new PosestreamError('PS_MODELS_PYTHON_FAILED', `cannot start ${python}: ${error.message}`)));
    child.once('exit', (code) => {
      if (code === 0) return resolve(stdout);
      const reason = stderr.trim().split('\n').filter(Boolean).at(-1) ?? `exit code ${code}`;
      reject(new PosestreamError('PS_EVAL_SCORING_FAILED', `posestream models ${args[0]}: ${reason}`));
    });
  });
}

async function scoreMot(gt: string, predictions: string): Promise<TrackScores> {
  const scores = JSON.parse(await runPython(modelsPython(), ['track-score', '--gt', gt, '--pred', predictions, '--json'])) as TrackScores;
  const { frames, idf1, mota, id_switches, precision, recall } = scores;
  return { frames, idf1, mota, id_switches, precision, recall };
}

async function runPeers(options: TrackEvalOptions, out: string): Promise<Array<TrackScores & { tracker: string }>> {
  const python = options.peersPython ?? modelsPython();
  const args = ['track-peers', '--model', options.model, '--video', options.video, '--gt', options.gt, '--out', path.join(out, 'peers'), '--json'];
  const rows = JSON.parse(await runPython(python, args)) as Array<TrackScores & { tracker: string }>;
  return rows.map(({ tracker, frames, idf1, mota, id_switches, precision, recall }) => ({ tracker, frames, idf1, mota, id_switches, precision, recall }));
}

export function formatTrackEval(result: TrackEvalResult): string {
  const rows: Array<[string, TrackScores, string]> = [['posestream', result, `${result.tracker_ms_per_frame.toFixed(3)} ms/frame`]];
  for (const peer of result.peers ?? []) rows.push([peer.tracker, peer, '']);
  const header = `${'tracker'.padEnd(24)} ${'IDF1'.padStart(6)} ${'MOTA'.padStart(6)} ${'IDsw'.padStart(5)} ${'prec'.padStart(6)} ${'recall'.padStart(6)}`;
  const lines = rows.map(([name, s, extra]) =>
    `${name.padEnd(24)} ${s.idf1.toFixed(3).padStart(6)} ${s.mota.toFixed(3).padStart(6)} ${String(s.id_switches).padStart(5)} ${s.precision.toFixed(3).padStart(6)} ${s.recall.toFixed(3).padStart(6)}  ${extra}`.trimEnd(),
  );
  return [`${result.frames} frames; predictions in ${path.dirname(result.predictions)}`, header, ...lines].join('\n');
}
