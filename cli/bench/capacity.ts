import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { PosestreamConfig } from '../../config/schema.js';
import { assetPath, repoRoot } from '../../pipeline/assets.js';
import { PosestreamError } from '../../pipeline/errors.js';
import type { RedisTarget } from '../../pipeline/redis/client.js';
import { processSample } from './processes.js';
import { annexB, killRtspServer, launchRtspServer } from './rtsp-server.js';
import { formatPeerColumns, PEER_COLUMNS_HEADER, peerTableNote, type CapacityPeer } from './peer.js';
import { summarize } from './stats.js';

/**
 * `posestream bench capacity`: how many live cameras one box serves at `fps` each, and how late the results are.
 * N cameras (a local RTSP server, real RTSP, paced in real time, one pipeline per camera looping the same clip) go
 * through ingest and a worker in this process; N grows step by step (cameras are added to the running roles) until a
 * camera falls under 95 % of its fps or p99 capture->result exceeds 250 ms. Then one run at 1.5x the largest N that
 * held (fairness past capacity: slowest / fastest camera, p99), and the single-request inference latency (LATENCY
 * hint, batch 1) against one camera's p50 alone. Latency = arrival of the result at a Redis reader in this process
 * minus the frame's capture time; results/s per camera = its results in the window; cpu = cores used by this process
 * and its decoder processes (not the RTSP server: that is the cameras).
 */

export interface CapacityRow {
  cameras: number;
  min_fps: number;
  mean_fps: number;
  p50_ms: number;
  p99_ms: number;
  /** CPU cores used by ingest + decoders + worker (this process and its children). */
  cpu: number;
}

export interface CapacityBenchResult {
  source: string;
  fps: number;
  /** The largest N that held (every camera >= 95 % of fps, p99 <= 250 ms); 0 when even one camera did not. */
  max_cameras: number;
  rows: CapacityRow[];
  /** The run at 1.5x max_cameras: fairness = slowest / fastest camera's results/s. */
  overload?: CapacityRow & { max_fps: number; fairness: number };
  /** One camera alone: p50 capture->result vs one inference (LATENCY hint, batch 1) on the same model. */
  single?: {
    p50_ms: number;
    infer_ms: number;
    ratio: number;
    /** The same inference paced at the camera's fps (idle in between, as one camera runs it), and p50 / that. */
    paced_infer_ms: number;
    paced_ratio: number;
  };
  chart?: string;
  /** With --peer: the same camera counts through one Ultralytics predict(stream=True) loop per camera (cli/bench/peer.ts). */
  peer_rows?: CapacityRow[];
  peer?: Omit<CapacityPeer, 'rows'>;
  model: string;
  precision: string;
  hint: string;
  batch: number;
  requests: number;
  seconds: number;
  load_before: number[];
}

export interface CapacityBenchOptions {
  model: string;
  /** '720p', '360p' or a video file. */
  source: string;
  fps: number;
  /** Stop the sweep here even if N still holds. */
  max: number;
  /** Measured seconds per N. */
  seconds: number;
  /** Cameras added per step. */
  step: number;
  /** worker.batchSize and model.hint (default: the config defaults). */
  batch?: number;
  hint?: string;
  redis: RedisTarget;
  /** Where the PNG chart goes (undefined: no chart). */
  chart?: string;
  /** Also run the Ultralytics peer for each camera count of the sweep. */
  peer?: boolean;
  log: (line: string) => void;
}

/** A camera holds when it gets this share of its fps ... */
const MIN_RATE_SHARE = 0.95;
/** ... and the p99 of capture->result stays under this. */
const MAX_P99_MS = 250;
/** After adding cameras: time for their decoders to connect and the queues to settle before measuring. */
const SETTLE_MS = 4_000;
/** A new camera's first result must come within this, or the step counts what it got (a camera at 0). */
const FIRST_RESULT_TIMEOUT_MS = 30_000;

interface Sample {
  streamId: string;
  latencyMs: number;
  /** The result's own timings: capture->publish to Redis (decode), publish->inference start (queue), inference. */
  decodeMs: number;
  queueMs: number;
  inferMs: number;
}

export async function runCapacityBench(options: CapacityBenchOptions): Promise<CapacityBenchResult> {
  const { log } = options;
  const { loadavg } = await import('node:os');
  const { createLogger } = await import('../../pipeline/obs/logger.js');
  const { startIngest } = await import('../../workers/ingest/main.js');
  const { startWorker } = await import('../../workers/inference/main.js');
  const { StreamRegistry } = await import('../../pipeline/streams/registry.js');
  const { parseStream } = await import('../../pipeline/streams/definition.js');
  const { duplicateClient } = await import('../../pipeline/redis/client.js');
  const { writeBenchConfig, tapResults, sleep, openBenchRedis } = await import('./pipeline-support.js');
  const loadBefore = loadavg();

  const media = benchMedia(options.source);
  const most = Math.ceil(options.max * 1.5);
  const server = await launchRtspServer(media.h264, { fps: options.fps, cameras: most });
  log(`capacity: ${media.label} cameras at ${options.fps} fps from rtsp://127.0.0.1:${server.port}/cam<i>`);
  const { config } = writeBenchConfig({
    redis: options.redis,
    model: options.model,
    streams: [],
    maxStreams: Math.max(16, most),
    ...(options.batch === undefined ? {} : { batchSize: options.batch }),
    ...(options.hint === undefined ? {} : { hint: options.hint }),
  });
  const redis = await openBenchRedis(options.redis);
  const logger = createLogger('bench', 'warn');
  const worker = await startWorker(config, { logger });
  const ingest = await startIngest(config, { logger });
  const registry = new StreamRegistry(redis);
  const cpu = new CpuMeter();

  const cameras: string[] = [];
  const addCameras = async (n: number) => {
    const added: string[] = [];
    while (cameras.length < n) {
      const id = `cam-${cameras.length}`;
      await registry.seed([parseStream({ id, url: `rtsp://127.0.0.1:${server.port}/cam${cameras.length}`, mode: 'live', fps: options.fps })]);
      cameras.push(id);
      added.push(id);
    }
    return added;
  };
  /** Waits for a first result of each new camera, then SETTLE_MS, then measures `seconds`. */
  const measure = async (n: number): Promise<{ row: CapacityRow; rates: number[] }> => {
    const fresh = new Set(await addCameras(n));
    const reader = duplicateClient(redis);
    const counts = new Map(cameras.map((id) => [id, 0]));
    const samples: Sample[] = [];
    let measuring = false;
    const tap = tapResults(reader, [...cameras], (result, receivedAt) => {
      if (result.kind !== 'pose') return;
      fresh.delete(result.streamId);
      if (!measuring) return;
      counts.set(result.streamId, (counts.get(result.streamId) ?? 0) + 1);
      const t = result.timings;
      samples.push({ streamId: result.streamId, latencyMs: receivedAt - result.captureTs, decodeMs: t.decodeMs, queueMs: t.queueMs, inferMs: t.inferMs });
    });
    const firstBy = Date.now() + FIRST_RESULT_TIMEOUT_MS;
    while (fresh.size > 0 && Date.now() < firstBy) await sleep(100);
    await sleep(SETTLE_MS);
    cpu.start();
    measuring = true;
    await sleep(options.seconds * 1000);
    measuring = false;
    const cores = cpu.stop();
    await tap.stop();
    reader.disconnect();
    const rates = cameras.map((id) => (counts.get(id) ?? 0) / options.seconds);
    const latency = summarize(samples.map((s) => s.latencyMs));
    const row: CapacityRow = {
      // Cameras are only ever added: a smaller n than already runs measures all of them.
      cameras: cameras.length,
      min_fps: round(Math.min(...rates), 2),
      mean_fps: round(rates.reduce((a, b) => a + b, 0) / rates.length, 2),
      p50_ms: round(latency.p50, 1),
      p99_ms: round(latency.p99, 1),
      cpu: round(cores, 2),
    };
    // Per stage, p50 and p99: says which stage a latency tail came from.
    const stage = (key: 'decodeMs' | 'queueMs' | 'inferMs') => {
      const { p50, p99 } = summarize(samples.map((sample) => sample[key]));
      return `${p50.toFixed(0)}/${p99.toFixed(0)}`;
    };
    log(`capacity: ${formatRow(row)}   (p50/p99 decode ${stage('decodeMs')}, queue ${stage('queueMs')}, infer ${stage('inferMs')} ms)`);
    return { row, rates };
  };

  const rows: CapacityRow[] = [];
  const measured = new Map<number, { row: CapacityRow; rates: number[] }>();
  let held = 0;
  let overload: CapacityBenchResult['overload'];
  let peer: CapacityPeer | undefined;
  try {
    try {
      overload = await sweep();
    } finally {
      await ingest.stop();
      await worker.stop();
    }
    // The peer after posestream's roles have stopped, against the same cameras.
    if (options.peer) {
      const { runCapacityPeer } = await import('./peer.js');
      const counts = [...new Set([...rows.map((row) => row.cameras), ...(overload ? [overload.cameras] : [])])].sort((a, b) => a - b);
      peer = await runCapacityPeer({ model: options.model, port: server.port, h264: media.h264, counts, fps: options.fps, seconds: options.seconds, warmup: SETTLE_MS / 1000, modelSettings: config.model, precision: worker.engine.precision, log });
    }
  } finally {
    await killRtspServer(server.child);
    redis.disconnect();
  }

  /** Grows N until a step does not hold, then the run at 1.5x what held (fairness past capacity). */
  async function sweep(): Promise<CapacityBenchResult['overload']> {
    for (let n = 1; n <= options.max; n = n === 1 && options.step > 1 ? options.step : n + options.step) {
      const step = await measure(n);
      measured.set(n, step);
      rows.push(step.row);
      if (!holds(step.row, options.fps)) break;
      held = n;
    }
    // Past capacity: 1.5x what held (nothing to compare against when not even one camera held). A step of the
    // sweep with that N is that run already.
    const past = Math.max(held + 1, Math.ceil(held * 1.5));
    if (held > 0 && past <= most) {
      const { row, rates } = measured.get(past) ?? (await measure(past));
      const fastest = Math.max(...rates);
      return { ...row, max_fps: round(fastest, 2), fairness: round(fastest > 0 ? Math.min(...rates) / fastest : 0, 3) };
    }
    return undefined;
  }

  const alone = rows.find((row) => row.cameras === 1);
  let single: CapacityBenchResult['single'];
  if (alone) {
    const infer = await singleInferenceMs(config, options.fps);
    single = {
      p50_ms: alone.p50_ms,
      infer_ms: round(infer.backToBack, 1),
      ratio: round(alone.p50_ms / infer.backToBack, 2),
      paced_infer_ms: round(infer.paced, 1),
      paced_ratio: round(alone.p50_ms / infer.paced, 2),
    };
  }
  const result: CapacityBenchResult = {
    source: media.label,
    fps: options.fps,
    max_cameras: held,
    rows,
    ...(overload ? { overload } : {}),
    ...(single ? { single } : {}),
    ...(peer ? { peer_rows: peer.rows, peer: { precision: peer.precision, vid_stride: peer.vid_stride, versions: peer.versions } } : {}),
    model: options.model,
    precision: worker.engine.precision,
    hint: config.model.hint,
    batch: config.worker.batchSize,
    requests: worker.engine.requests,
    seconds: options.seconds,
    load_before: loadBefore.map((l) => Number(l.toFixed(2))),
  };
  if (options.chart) {
    const { writeCapacityChart } = await import('./capacity-chart.js');
    await writeCapacityChart(result, options.chart);
    result.chart = options.chart;
  }
  return result;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

function holds(row: CapacityRow, fps: number): boolean {
  return row.min_fps >= MIN_RATE_SHARE * fps && row.p99_ms <= MAX_P99_MS;
}

/** The source as an H.264 Annex-B file for the RTSP server (made once under build/bench-media). */
function benchMedia(source: string): { label: string; h264: string } {
  const dir = path.join(repoRoot, 'build', 'bench-media');
  const walking = assetPath('walkingVideo');
  if (source === '720p') return { label: '720p', h264: annexB(walking, path.join(dir, 'walking_720p.h264')) };
  if (source === '360p') return { label: '360p', h264: annexB(walking, path.join(dir, 'walking_360p.h264'), { height: 360 }) };
  const file = path.resolve(source);
  if (!existsSync(file)) throw new PosestreamError('PS_CLI_BAD_OPTION', `--source must be 720p, 360p or a video file; no file ${source}`);
  return { label: path.basename(file), h264: annexB(file, path.join(dir, `${path.basename(file, path.extname(file))}.h264`), { reencode: true }) };
}

/**
 * Median of one-frame inferences (letterbox, request, decode) on an engine compiled for latency (LATENCY hint,
 * batch 1, one request) with the pipeline's input format, so the same graph (colour conversion included) is timed:
 * back to back (the usual single-request latency, the target's baseline), and paced at `fps` with the engine idle in
 * between, as one camera runs it (idle cores and caches make each such inference slower: 20.6 vs 18.4 ms in one run).
 */
async function singleInferenceMs(config: PosestreamConfig, fps: number): Promise<{ backToBack: number; paced: number }> {
  const { PoseEngine } = await import('../../workers/inference/pose-engine.js');
  const { backendSettings } = await import('../../workers/inference/backends/index.js');
  const { readFittedImage } = await import('../../pipeline/image/read-image.js');
  const { frameFormatOf, rgbToI420 } = await import('../../pipeline/image/i420.js');
  const { sleep } = await import('./pipeline-support.js');
  const format = frameFormatOf(config.model.inputFormat);
  const engine = await PoseEngine.create({
    modelPath: config.model.path,
    device: config.model.device,
    maxBatch: 1,
    inputSize: config.model.inputSize,
    inputFormat: format,
    settings: backendSettings({ ...config.model, hint: 'LATENCY' }),
  });
  try {
    const image = await readFittedImage(assetPath('busImage'), config.model.inputSize);
    const pixels = format === 'i420' ? rgbToI420(image.pixels, image.width, image.height) : image.pixels;
    const frame = { pixels, format, width: image.width, height: image.height, sourceWidth: image.sourceWidth, sourceHeight: image.sourceHeight };
    const timeInferences = async (count: number, gapMs: number) => {
      const times: number[] = [];
      for (let i = 0; i < count + 5; i += 1) {
        if (gapMs > 0) await sleep(gapMs);
        const started = performance.now();
        await engine.infer([frame]);
        if (i >= 5) times.push(performance.now() - started);
      }
      return summarize(times).p50;
    };
    const backToBack = await timeInferences(40, 0);
    return { backToBack, paced: await timeInferences(40, 1000 / fps) };
  } finally {
    await engine.dispose();
  }
}

/** CPU cores used by this process and its children (decoders) between start() and stop(), from /proc. */
class CpuMeter {
  private startedAt = 0;
  private before = new Map<number, number>();

  start(): void {
    this.before = cpuByProcess();
    this.startedAt = performance.now();
  }

  stop(): number {
    const seconds = (performance.now() - this.startedAt) / 1000;
    let used = 0;
    for (const [pid, cpuSeconds] of cpuByProcess()) used += cpuSeconds - (this.before.get(pid) ?? cpuSeconds);
    return seconds > 0 ? used / seconds : Number.NaN;
  }
}

/** CPU seconds of this process and each of its descendants (a decoder that exits meanwhile is not counted). */
function cpuByProcess(): Map<number, number> {
  const seen = new Map<number, number>();
  const visit = (pid: number) => {
    const { cpuSeconds } = processSample(pid);
    if (Number.isNaN(cpuSeconds) || seen.has(pid)) return;
    seen.set(pid, cpuSeconds);
    for (const child of childPids(pid)) visit(child);
  };
  visit(process.pid);
  return seen;
}

function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter((s) => s.trim() !== '').map(Number),
    );
  } catch {
    return [];
  }
}

export function formatRow(row: CapacityRow): string {
  return `${String(row.cameras).padStart(7)}  ${row.min_fps.toFixed(2).padStart(7)}  ${row.mean_fps.toFixed(2).padStart(8)}  ${row.p50_ms.toFixed(0).padStart(6)}  ${row.p99_ms.toFixed(0).padStart(6)}  ${row.cpu.toFixed(2).padStart(5)}`;
}

export function formatCapacityBench(r: CapacityBenchResult): string {
  // With --peer, the Ultralytics loops' columns for the same N right of the table (cli/bench/peer.ts).
  const peerRow = (cameras: number) => r.peer_rows?.find((row) => row.cameras === cameras);
  const peerColumns = (cameras: number) => (r.peer_rows ? formatPeerColumns(peerRow(cameras)) : '');
  const lines = [
    `capacity: live ${r.source} cameras at ${r.fps} fps (RTSP, real time), ${r.seconds} s per step; holds = every camera >= ${MIN_RATE_SHARE * 100} % of its fps and p99 capture->result <= ${MAX_P99_MS} ms`,
    ...(r.peer ? [peerTableNote(r.peer)] : []),
    `cameras  min fps  mean fps  p50 ms  p99 ms    cpu${r.peer_rows ? PEER_COLUMNS_HEADER : ''}`,
    ...r.rows.map((row) => `${formatRow(row)}${peerColumns(row.cameras)}${holds(row, r.fps) ? '' : '  (does not hold)'}`),
    `largest N that holds: ${r.max_cameras}`,
  ];
  if (r.overload) {
    lines.push(
      `past capacity, ${r.overload.cameras} cameras: results/s per camera ${r.overload.min_fps.toFixed(2)} .. ${r.overload.max_fps.toFixed(2)} (slowest/fastest ${r.overload.fairness.toFixed(2)}), p50 ${r.overload.p50_ms.toFixed(0)} ms, p99 ${r.overload.p99_ms.toFixed(0)} ms`,
    );
    const peerPast = r.rows.some((row) => row.cameras === r.overload!.cameras) ? undefined : peerRow(r.overload.cameras);
    if (peerPast) lines.push(`  Ultralytics at ${peerPast.cameras} cameras:${formatPeerColumns(peerPast)}`);
  }
  if (r.single) {
    lines.push(`one camera alone: p50 capture->result ${r.single.p50_ms.toFixed(1)} ms, one inference (LATENCY hint, batch 1) ${r.single.infer_ms.toFixed(1)} ms, ratio ${r.single.ratio.toFixed(2)} (target <= 1.5); paced at ${r.fps}/s ${r.single.paced_infer_ms.toFixed(1)} ms, ratio ${r.single.paced_ratio.toFixed(2)}`);
  }
  if (r.chart) lines.push(`chart: ${r.chart}`);
  lines.push(`model ${r.model}, precision ${r.precision}, CPU, hint ${r.hint}, ${r.requests} infer requests, batch up to ${r.batch}; load before ${r.load_before.join(' ')}`);
  return lines.join('\n');
}
