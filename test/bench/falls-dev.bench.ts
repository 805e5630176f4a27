/**
 * Fall detection on a labelled falls dataset, outside the pipeline (a dev harness, not a test):
 *   node --import tsx test/bench/falls-dev.bench.ts [--data DIR] [--labels F] [--model IR] [--cache DIR]
 *        [--rules JSON] [--json]
 *
 * Each clip is decoded with its presentation timestamps (ffprobe/ffmpeg, test/bench/support/clip-frames.ts), every
 * frame goes through the real model (PoseEngine, default the INT8 IR, conf 0.25 as the workers use), people are
 * associated across frames by a greedy IoU stand-in for the tracker (test/bench/support/greedy-iou-tracker.ts),
 * and the event engine (pipeline/events) runs on the media time. Fall alerts (the media time of each `fall`
 * event's decisive frame) are scored by `python -m posestream_models fall-score` (scikit-learn): per clip expected,
 * detected, delay after the labelled onset; overall precision, recall, F1, false alerts, median delay.
 * --cache DIR keeps each clip's detections (per model) so rule changes can be re-scored without inferring again.
 * --rules takes an EventRulesInput JSON (e.g. '{"fall":{"minDownSec":0.8}}') to try other thresholds.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { runModelsJson } from '../../cli/commands/models.js';
import { assetPath, defaultModelPaths } from '../../pipeline/assets.js';
import { eventRulesSchema } from '../../pipeline/events/config.js';
import { EventEngine } from '../../pipeline/events/engine.js';
import { fitImage } from '../../pipeline/image/read-image.js';
import { personSchema, type Person, type PoseEvent } from '../../pipeline/wire/v1.js';
import { PoseEngine } from '../../workers/inference/pose-engine.js';
import { probeClip, readClipFrames } from './support/clip-frames.js';
import { GreedyIouTracker } from './support/greedy-iou-tracker.js';

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
  const tracker = new GreedyIouTracker();
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
        persons: tracker.update(persons, frame.ptsMs),
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

const folder = mkdtempSync(path.join(tmpdir(), 'posestream-falls-'));
try {
  const alertsFile = path.join(folder, 'alerts.json');
  writeFileSync(alertsFile, JSON.stringify({ clips: alerts }));
  const score = (await runModelsJson(['fall-score', '--labels', labelsFile, '--alerts', alertsFile, '--json'], 'PS_EVAL_SCORE_FAILED')) as {
    clips: Array<{ file: string; fall: boolean; detected: boolean; delay_s: number | null; false_alerts: number }>;
    precision: number;
    recall: number;
    f1: number;
    false_alerts: number;
    median_delay_s: number | null;
    falls: number;
    detected: number;
  };
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ ...score, alerts, model: args.model, tracker: 'greedy-iou (harness stand-in)' })}\n`);
  } else {
    const onsets = new Map(labels.clips.map((clip) => [clip.file, clip.fall_onset_s]));
    const alertTimes = new Map(alerts.map((clip) => [clip.file, clip.alerts_s]));
    console.log(`model ${args.model}; tracker: greedy IoU stand-in; rules ${JSON.stringify(args.rules)}`);
    console.log(`${'clip'.padEnd(18)} ${'expected'.padEnd(8)} ${'detected'.padEnd(8)} ${'onset_s'.padStart(7)} ${'alerts_s'.padEnd(14)} ${'delay_s'.padStart(7)} false`);
    for (const clip of score.clips) {
      const onset = onsets.get(clip.file);
      const times = (alertTimes.get(clip.file) ?? []).map((t) => t.toFixed(2)).join(',') || '-';
      const delay = clip.delay_s === null ? '-' : clip.delay_s.toFixed(2);
      console.log(`${clip.file.padEnd(18)} ${(clip.fall ? 'fall' : 'no').padEnd(8)} ${(clip.detected ? 'yes' : 'no').padEnd(8)} ${(onset === null || onset === undefined ? '-' : onset.toFixed(2)).padStart(7)} ${times.padEnd(14)} ${delay.padStart(7)} ${clip.false_alerts}`);
      for (const line of details[clip.file] ?? []) console.log(`    ${line}`);
    }
    console.log(
      `falls found ${score.detected}/${score.falls}, false alerts ${score.false_alerts}, precision ${score.precision.toFixed(3)}, recall ${score.recall.toFixed(3)}, F1 ${score.f1.toFixed(3)}, median delay ${score.median_delay_s ?? '-'} s`,
    );
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
}
