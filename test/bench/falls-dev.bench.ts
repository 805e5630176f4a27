/**
 * Fall detection on a labelled falls dataset, outside the pipeline (a dev harness, not a test):
 *   node --import tsx test/bench/falls-dev.bench.ts [--data DIR] [--labels F] [--model IR] [--cache DIR]
 *        [--rules JSON] [--json]
 *
 * Each clip is decoded with its presentation timestamps (ffprobe/ffmpeg, test/bench/support/clip-frames.ts), every
 * frame goes through the real model (PoseEngine, default the INT8 IR, conf 0.25 as the workers use), the tracker
 * (pipeline/tracking, default settings) and the event engine (pipeline/events) run on the media time: the worker's
 * stages without the pipeline around them, so rule changes can be tried in seconds (`posestream eval falls` runs
 * the real pipeline). Fall alerts (the media time of each `fall`
 * event's decisive frame) are scored by `python -m posestream_models fall-score` (scikit-learn): per clip expected,
 * detected, delay after the labelled onset; overall precision, recall, F1, false alerts, median delay.
 * --cache DIR keeps each clip's detections (per model) so rule changes can be re-scored without inferring again.
 * --rules takes an EventRulesInput JSON (e.g. '{"fall":{"minDownSec":0.8}}') to try other thresholds.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { formatFallReport, scoreFallAlerts } from '../../cli/commands/eval-falls.js';
import { assetPath, defaultModelPaths } from '../../pipeline/assets.js';
import { eventRulesSchema } from '../../pipeline/events/config.js';
import { EventEngine } from '../../pipeline/events/engine.js';
import { fitImage } from '../../pipeline/image/read-image.js';
import { personSchema, type Person, type PoseEvent } from '../../pipeline/wire/v1.js';
import { PoseEngine } from '../../workers/inference/pose-engine.js';
import { probeClip, readClipFrames } from './support/clip-frames.js';
import { DEFAULT_TRACKER_CONFIG } from '../../pipeline/tracking/config.js';
import { PoseTracker } from '../../pipeline/tracking/tracker.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: assetPath('fallsDev') },
    labels: { type: 'string' },
    model: { type: 'string', default: defaultModelPaths.int8 },
    cache: { type: 'string' },
    rules: { type: 'string', default: '{}' },
    json: { type: 'boolean', default: false },
  },
});

const labelsSchema = z.object({ clips: z.array(z.object({ file: z.string(), fall: z.boolean(), fall_onset_s: z.number().nullable() }).passthrough()) }).passthrough();
const clipPosesSchema = z.object({
  model: z.string(),
  width: z.number(),
  height: z.number(),
  frames: z.array(z.object({ ptsMs: z.number(), persons: z.array(personSchema) })),
});
type ClipPoses = z.infer<typeof clipPosesSchema>;

const labelsFile = args.labels ?? path.join(args.data, 'labels.json');
const labels = labelsSchema.parse(JSON.parse(readFileSync(labelsFile, 'utf8')));
const rules = eventRulesSchema.parse(JSON.parse(args.rules));
const log = (line: string) => process.stderr.write(`${line}\n`);

let poseEngine: PoseEngine | undefined;
async function detectClip(file: string): Promise<ClipPoses> {
  const cacheFile = args.cache ? path.join(args.cache, `${path.basename(file)}.poses.json`) : undefined;
  if (cacheFile && existsSync(cacheFile)) {
    const cached = clipPosesSchema.parse(JSON.parse(readFileSync(cacheFile, 'utf8')));
    if (cached.model === args.model) return cached;
  }
  poseEngine ??= await PoseEngine.create({ modelPath: args.model, settings: { openvino: { hint: 'THROUGHPUT' } } });
  const { width, height } = await probeClip(file);
  const frames: ClipPoses['frames'] = [];
  for await (const frame of readClipFrames(file)) {
    const fitted = fitImage({ pixels: frame.pixels, width: frame.width, height: frame.height });
    const { persons } = await poseEngine.infer([fitted]);
    frames.push({ ptsMs: frame.ptsMs, persons: persons[0]! });
  }
  const poses = { model: args.model, width, height, frames };
  if (cacheFile) {
    mkdirSync(path.dirname(cacheFile), { recursive: true });
    writeFileSync(cacheFile, JSON.stringify(poses));
  }
  return poses;
}

/** Runs the engine over one clip; returns its events and the media time (s) of each frame by seq. */
function runEngine(streamId: string, poses: ClipPoses): { events: PoseEvent[]; timeOfSeq: (seq: number) => number } {
  const engine = new EventEngine(streamId, rules);
  const tracker = new PoseTracker(DEFAULT_TRACKER_CONFIG);
  const events: PoseEvent[] = [];
  poses.frames.forEach((frame, seq) => {
    const persons: Person[] = frame.persons;
    events.push(
      ...engine.process({
        streamId,
        seq,
        captureTs: frame.ptsMs,
        ptsMs: frame.ptsMs,
        sourceWidth: poses.width,
        sourceHeight: poses.height,
        // As TrackingStage does: confirmed tracks get their id; everyone else stays in the result without one.
        persons: tracker.update(frame.ptsMs, persons).map((annotation, i) => (annotation.trackId === undefined ? persons[i]! : { ...persons[i]!, trackId: annotation.trackId })),
        publishedTs: 0,
      }),
    );
  });
  return { events, timeOfSeq: (seq) => poses.frames[seq]!.ptsMs / 1000 };
}

const alerts: Array<{ file: string; alerts_s: number[] }> = [];
const details: Record<string, string[]> = {};
for (const clip of labels.clips) {
  const file = path.join(args.data, clip.file);
  const poses = await detectClip(file);
  const { events, timeOfSeq } = runEngine(path.parse(clip.file).name.replace(/[^A-Za-z0-9_-]/g, '_'), poses);
  const falls = events.filter((event) => event.type === 'fall');
  alerts.push({ file: clip.file, alerts_s: falls.map((event) => timeOfSeq(event.atSeq)) });
  details[clip.file] = falls.map((event) => `track ${event.trackId}: onset ${timeOfSeq(event.seq).toFixed(2)} s, alert ${timeOfSeq(event.atSeq).toFixed(2)} s, ${JSON.stringify(event.attributes)}`);
  log(`${clip.file}: ${poses.frames.length} frames, ${falls.length} fall alert(s)`);
}
await poseEngine?.dispose();

const report = await scoreFallAlerts(labelsFile, alerts);
if (args.json) {
  process.stdout.write(`${JSON.stringify({ ...report, model: args.model, tracker: 'pipeline/tracking PoseTracker (defaults)' })}\n`);
} else {
  console.log(`model ${args.model}; tracker: PoseTracker (defaults); rules ${args.rules}`);
  console.log(formatFallReport(report));
  for (const [file, lines] of Object.entries(details)) for (const line of lines) console.log(`  ${file} ${line}`);
}
