/**
 * Tracker development harness: runs the real model (PoseEngine, INT8 IR, conf 0.25) over a video decoded by ffmpeg,
 * caches the detections, runs PoseTracker over them, writes MOT predictions and scores them with the models/
 * toolchain (py-motmetrics, IoU 0.5). Not a test: a loop for trying tracker settings on the same detections.
 *
 *   node --import tsx test/bench/track-dev.bench.ts [--video V --gt GT --model M --conf 0.25 --fps F]
 *        [--config '{"poseWeight":0}'] [--out DIR] [--json]
 *
 * Defaults: the TUD-Stadtmitte clip and its MOT ground truth (video frame n = gt frame n + 1). Detections are
 * cached under build/track-dev/ by video, model and confidence.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { assetsDir, buildDir, defaultModelPaths } from '../../pipeline/assets.js';
import { fitInside } from '../../pipeline/pose/letterbox.js';
import { trackerConfig } from '../../pipeline/tracking/config.js';
import { motText, type MotBox } from '../../pipeline/tracking/mot-format.js';
import { PoseTracker } from '../../pipeline/tracking/tracker.js';
import type { Person } from '../../pipeline/wire/v1.js';
import { modelsPython } from '../../cli/commands/models.js';

const tud = path.join(assetsDir(), 'datasets', 'mot15-tud-stadtmitte');
const { values: args } = parseArgs({
  options: {
    video: { type: 'string', default: path.join(tud, 'TUD-Stadtmitte_640x480_25fps.mp4') },
    gt: { type: 'string', default: path.join(tud, 'gt', 'gt.txt') },
    model: { type: 'string', default: defaultModelPaths.int8 },
    conf: { type: 'string', default: '0.25' },
    fps: { type: 'string' },
    config: { type: 'string', default: '{}' },
    /** Robustness variants: keep every n-th frame; drop frames at random (live-stream gaps); scale coordinates. */
    stride: { type: 'string', default: '1' },
    offset: { type: 'string', default: '0' },
    drop: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    scale: { type: 'string', default: '1' },
    out: { type: 'string', default: path.join(buildDir, 'track-dev') },
    json: { type: 'boolean', default: false },
  },
});

interface VideoInfo {
  width: number;
  height: number;
  fps: number;
}

interface CachedDetections {
  video: string;
  fps: number;
  frames: Person[][];
}

function run(command: string, argv: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${command} exited ${code}`))));
  });
}

async function probe(video: string): Promise<VideoInfo> {
  const out = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,r_frame_rate', '-of', 'json', video]);
  const stream = (JSON.parse(out.toString()) as { streams: Array<{ width: number; height: number; r_frame_rate: string }> }).streams[0]!;
  const [num, den] = stream.r_frame_rate.split('/').map(Number);
  return { width: stream.width, height: stream.height, fps: num! / (den || 1) };
}

/** Every frame as RGB24 fitted inside 640 (what ingest hands the worker), one at a time. */
async function* decodeFrames(video: string, info: VideoInfo): AsyncGenerator<Uint8Array> {
  const fitted = fitInside(info.width, info.height);
  const frameBytes = fitted.width * fitted.height * 3;
  const child = spawn('ffmpeg', ['-v', 'error', '-i', video, '-vf', `scale=${fitted.width}:${fitted.height}:flags=bilinear`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= frameBytes) {
      yield new Uint8Array(pending.subarray(0, frameBytes));
      pending = pending.subarray(frameBytes);
    }
  }
}

async function detect(video: string, model: string, confidence: number): Promise<CachedDetections> {
  const key = createHash('sha1').update(`${path.resolve(video)}|${statSync(video).size}|${path.resolve(model)}|${confidence}`).digest('hex').slice(0, 12);
  const cacheFile = path.join(args.out!, `${path.basename(video)}.${key}.dets.json`);
  if (existsSync(cacheFile)) return JSON.parse(readFileSync(cacheFile, 'utf8')) as CachedDetections;
  const { PoseEngine } = await import('../../workers/inference/pose-engine.js');
  const info = await probe(video);
  const fitted = fitInside(info.width, info.height);
  const engine = await PoseEngine.create({ modelPath: model, decode: { confidence, iou: 0.7, maxDetections: 300 } });
  const frames: Person[][] = [];
  try {
    for await (const pixels of decodeFrames(video, info)) {
      const result = await engine.infer([{ pixels, width: fitted.width, height: fitted.height, sourceWidth: info.width, sourceHeight: info.height }]);
      frames.push(result.persons[0]!);
    }
  } finally {
    await engine.dispose();
  }
  const cached: CachedDetections = { video: path.basename(video), fps: info.fps, frames };
  mkdirSync(args.out!, { recursive: true });
  writeFileSync(cacheFile, JSON.stringify(cached));
  console.error(`detected ${frames.length} frames -> ${cacheFile}`);
  return cached;
}

/** Frame indices (0-based) the variant keeps: every stride-th, minus random drops (seeded, reproducible). */
function keptFrames(total: number): number[] {
  const stride = Number(args.stride);
  const drop = Number(args.drop);
  let state = Number(args.seed) >>> 0 || 1;
  const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const kept: number[] = [];
  const first = Number(args.offset);
  for (let index = first; index < total; index += stride) if (index === first || random() >= drop) kept.push(index);
  return kept;
}

function scalePerson(person: Person, k: number): Person {
  if (k === 1) return person;
  return {
    ...person,
    box: person.box.map((v) => v * k) as Person['box'],
    keypoints: person.keypoints.map(([x, y, c]) => [x * k, y * k, c] as [number, number, number]),
  };
}

/** The ground truth of the kept frames, scaled like the detections. */
function variantGroundTruth(gt: string, kept: number[], k: number): string {
  const frames = new Set(kept.map((index) => index + 1));
  const lines = readFileSync(gt, 'utf8').trim().split('\n').map((line) => line.split(','));
  const text = lines
    .filter((cells) => frames.has(Number(cells[0])))
    .map((cells) => [cells[0], cells[1], ...cells.slice(2, 6).map((v) => String(Number(v) * k)), ...cells.slice(6)].join(','))
    .join('\n');
  const file = path.join(args.out!, 'variant-gt.txt');
  writeFileSync(file, `${text}\n`);
  return file;
}

function track(detections: CachedDetections, fps: number, kept: number[], k: number): { boxes: MotBox[]; msPerFrame: number; ids: number } {
  const tracker = new PoseTracker(trackerConfig(JSON.parse(args.config!) as object));
  const boxes: MotBox[] = [];
  const ids = new Set<number>();
  let elapsed = 0;
  kept.forEach((index) => {
    const persons = detections.frames[index]!.map((person) => scalePerson(person, k));
    const started = performance.now();
    const annotations = tracker.update((index * 1000) / fps, persons);
    elapsed += performance.now() - started;
    annotations.forEach((annotation, i) => {
      if (annotation.trackId === undefined) return;
      ids.add(annotation.trackId);
      boxes.push({ frame: index + 1, id: annotation.trackId, box: persons[i]!.box, score: persons[i]!.score });
    });
  });
  return { boxes, msPerFrame: elapsed / kept.length, ids: ids.size };
}

async function score(gt: string, predictions: string): Promise<Record<string, number>> {
  const out = await run(modelsPython(), ['-m', 'posestream_models', 'track-score', '--gt', gt, '--pred', predictions, '--json']);
  return JSON.parse(out.toString()) as Record<string, number>;
}

const detections = await detect(args.video!, args.model!, Number(args.conf));
const fps = args.fps ? Number(args.fps) : detections.fps;
const kept = keptFrames(detections.frames.length);
const k = Number(args.scale);
const variant = kept.length !== detections.frames.length || k !== 1;
const { boxes, msPerFrame, ids } = track(detections, fps, kept, k);
const predictions = path.join(args.out!, `${path.basename(args.video!)}.pred.txt`);
writeFileSync(predictions, motText(boxes));
const scores = await score(variant ? variantGroundTruth(args.gt!, kept, k) : args.gt!, predictions);
const result = { ...scores, tracks: ids, tracker_ms_per_frame: Number(msPerFrame.toFixed(4)) };
console.log(
  args.json
    ? JSON.stringify(result)
    : `IDF1 ${scores.idf1!.toFixed(3)}  MOTA ${scores.mota!.toFixed(3)}  IDsw ${scores.id_switches}  P ${scores.precision!.toFixed(3)}  R ${scores.recall!.toFixed(3)}  ids ${ids}  ${msPerFrame.toFixed(3)} ms/frame`,
);
