import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { modelSchema, type PosestreamConfig } from '../../config/schema.js';
import { PosestreamError } from '../../pipeline/errors.js';
import { runModelsJson } from '../commands/models.js';
import type { CapacityRow } from './capacity.js';
import type { PipelineBenchResult } from './pipeline.js';

/**
 * The Ultralytics peer of `bench pipeline --peer` and `bench capacity --peer`: Ultralytics'
 * `YOLO(...).predict(source, stream=True)` on the same OpenVINO IR, with the same conf / iou / input size / max
 * detections and the same INFERENCE_PRECISION_HINT as posestream ran, one loop process per source
 * (`posestream models peer-predict`, models/src/posestream_models/peer_predict.py: what it measures is written there).
 * Needs the `[ultralytics]` extra in the models venv; requirePeer() says so in one line before anything runs.
 */

/** `bench pipeline --peer`: one lossless posestream stream should give at least this many times the peer's frames/s. */
export const PIPELINE_PEER_TARGET = 1.15;

const INSTALL = "POSESTREAM_WITH_ULTRALYTICS=1 bash scripts/setup.sh (or .venv/bin/pip install -e 'models[ultralytics]')";

/** What `peer-predict --json` prints (the fields used here). */
interface PeerPredictResult {
  mode: 'file' | 'live' | 'mixed';
  loops: number;
  frames_per_s: number[];
  min_frames_per_s: number;
  mean_frames_per_s: number;
  latency_ms: { p50: number | null; p99: number | null; count: number } | null;
  cpu_cores: number;
  precision: string;
  versions: Record<string, string> | null;
}

interface PeerRun {
  model: string;
  sources: string[];
  seconds: number;
  warmup: number;
  /** posestream's model settings in force: the peer uses the same. */
  modelSettings: Pick<PosestreamConfig['model'], 'confidence' | 'iou' | 'inputSize' | 'maxDetections' | 'device'>;
  /** The precision posestream ran (read back from its compiled model); the peer pins the same. */
  precision: string;
  vidStride?: number;
}

/** Fails with one line saying how to install the extra when the peer cannot run here. */
export async function requirePeer(): Promise<void> {
  const check = (await runModelsJson(['peer-predict', '--check', '--json'], 'PS_BENCH_PEER_FAILED')) as { available: boolean };
  if (!check.available) throw new PosestreamError('PS_BENCH_PEER_MISSING', `--peer needs Ultralytics in the models venv; install it with ${INSTALL}`);
}

/** Every loop process imports torch and Ultralytics and compiles the IR before its first frame: on 2 cores that is
 * ~10 s for one and grows with the number started together. */
function firstFrameTimeoutS(loops: number): number {
  return 60 + 20 * loops;
}

async function runPeer(run: PeerRun): Promise<PeerPredictResult> {
  const { confidence, iou, inputSize, maxDetections, device } = run.modelSettings;
  // A precision name the runtime did not report (e.g. '?') leaves the choice to OpenVINO, as posestream did.
  const precision = /^(f32|bf16|f16)$/.test(run.precision) ? run.precision : 'default';
  const args = [
    'peer-predict', '--model', path.resolve(run.model), '--source', ...run.sources,
    '--seconds', String(run.seconds), '--warmup', String(run.warmup),
    '--conf', String(confidence), '--iou', String(iou), '--imgsz', String(inputSize), '--max-det', String(maxDetections),
    '--device', device, '--precision', precision, '--vid-stride', String(run.vidStride ?? 1),
    '--first-timeout', String(firstFrameTimeoutS(run.sources.length)), '--json',
  ]; // prettier-ignore
  return (await runModelsJson(args, 'PS_BENCH_PEER_FAILED')) as PeerPredictResult;
}

export interface PipelinePeer {
  /** The Ultralytics loop on the walking clip, every frame. */
  frames_per_s: number;
  /** One lossless posestream stream of the same clip (this run's own when it had one stream). */
  posestream_frames_per_s: number;
  /** posestream / Ultralytics. */
  ratio: number;
  target: number;
  precision: string;
  posestream_precision: string;
  cpu_cores: number;
  versions: Record<string, string> | null;
}

/**
 * One lossless stream through posestream (`single`, measured by the caller with the pipeline benchmark's code)
 * against one Ultralytics loop over the same clip, same seconds and warm-up.
 */
export async function runPipelinePeer(options: { model: string; video: string; seconds: number; warmup: number; single: PipelineBenchResult; log: (line: string) => void }): Promise<PipelinePeer> {
  const { single, log } = options;
  log(`peer: Ultralytics predict(stream=True) on ${path.basename(options.video)}, precision ${single.precision}, ${options.seconds} s after ${options.warmup} s warm-up`);
  const peer = await runPeer({
    model: options.model,
    sources: [options.video],
    seconds: options.seconds,
    warmup: options.warmup,
    modelSettings: modelSchema.parse({ path: options.model }),
    precision: single.precision,
  });
  const framesPerS = peer.mean_frames_per_s;
  log(`peer: ${framesPerS.toFixed(2)} frames/s (precision ${peer.precision}, ${peer.cpu_cores} CPU cores)`);
  return {
    frames_per_s: framesPerS,
    posestream_frames_per_s: single.results_per_s,
    ratio: framesPerS > 0 ? Number((single.results_per_s / framesPerS).toFixed(3)) : Number.NaN,
    target: PIPELINE_PEER_TARGET,
    precision: peer.precision,
    posestream_precision: single.precision,
    cpu_cores: peer.cpu_cores,
    versions: peer.versions,
  };
}

export function formatPipelinePeer(p: PipelinePeer): string {
  return [
    `single lossless stream: posestream ${p.posestream_frames_per_s.toFixed(2)} results/s vs Ultralytics predict(stream=True) ${p.frames_per_s.toFixed(2)} frames/s (${p.cpu_cores.toFixed(2)} CPU cores), same IR and clip`,
    `ratio posestream/Ultralytics = ${p.ratio.toFixed(3)} (target >= ${p.target}); precision posestream ${p.posestream_precision}, Ultralytics ${p.precision}; ultralytics ${p.versions?.ultralytics ?? '?'}`,
  ].join('\n');
}

export interface CapacityPeer {
  rows: CapacityRow[];
  precision: string;
  /** Ultralytics' vid_stride: the camera's frame rate over the fps posestream's streams take from it. */
  vid_stride: number;
  versions: Record<string, string> | null;
}

/**
 * For each camera count of the posestream sweep, that many Ultralytics loops (one process per camera) against the
 * same RTSP server, measured like a sweep step: a first frame from every loop, `warmup` seconds, then `seconds`.
 * The server sends the clip at its own frame rate and posestream's `fps` cap drops down to `fps`; Ultralytics'
 * way to take `fps` of a camera is vid_stride (read every frame, keep every n-th), so that is what it gets.
 */
export async function runCapacityPeer(options: {
  model: string;
  port: number;
  h264: string;
  counts: number[];
  fps: number;
  seconds: number;
  warmup: number;
  modelSettings: PeerRun['modelSettings'];
  precision: string;
  log: (line: string) => void;
}): Promise<CapacityPeer> {
  const { log } = options;
  const vidStride = Math.max(1, Math.round(frameRate(options.h264) / options.fps));
  const rows: CapacityRow[] = [];
  let last: PeerPredictResult | undefined;
  for (const cameras of options.counts) {
    const sources = Array.from({ length: cameras }, (_, i) => `rtsp://127.0.0.1:${options.port}/cam${i}`);
    last = await runPeer({ model: options.model, sources, seconds: options.seconds, warmup: options.warmup, modelSettings: options.modelSettings, precision: options.precision, vidStride });
    const row: CapacityRow = {
      cameras,
      min_fps: last.min_frames_per_s,
      mean_fps: last.mean_frames_per_s,
      p50_ms: last.latency_ms?.p50 ?? Number.NaN,
      p99_ms: last.latency_ms?.p99 ?? Number.NaN,
      cpu: last.cpu_cores,
    };
    log(`capacity peer (Ultralytics, vid_stride ${vidStride}): ${formatPeerColumns(row)}`);
    rows.push(row);
  }
  return { rows, precision: last?.precision ?? '?', vid_stride: vidStride, versions: last?.versions ?? null };
}

/** The frame rate an H.264 elementary stream declares (its SPS timing); 30 when ffprobe cannot say. */
function frameRate(h264: string): number {
  const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=r_frame_rate', '-of', 'csv=p=0', h264], { encoding: 'utf8' });
  const [num, den] = (probe.stdout ?? '').trim().split('/').map(Number);
  const rate = num !== undefined && den ? num / den : Number.NaN;
  return Number.isFinite(rate) && rate > 0 ? rate : 30;
}

/** The peer's columns of the capacity table (min / mean frames/s per camera, p50 / p99 read->result, CPU cores). */
export function formatPeerColumns(row: CapacityRow | undefined): string {
  if (!row) return '';
  const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(0) : '-');
  return `  |  ${row.min_fps.toFixed(2).padStart(7)}  ${row.mean_fps.toFixed(2).padStart(8)}  ${ms(row.p50_ms).padStart(6)}  ${ms(row.p99_ms).padStart(6)}  ${row.cpu.toFixed(2).padStart(5)}`;
}

export const PEER_COLUMNS_HEADER = '  |  min fps  mean fps  p50 ms  p99 ms    cpu';

/** The line above the capacity table when it has the peer's columns. */
export function peerTableNote(peer: Omit<CapacityPeer, 'rows'>): string {
  return `right of |: Ultralytics ${peer.versions?.ultralytics ?? '?'} predict(stream=True), one process per camera, vid_stride ${peer.vid_stride}, precision ${peer.precision}; latency = frame decoded by its capture thread -> result`;
}
