import type { Command } from 'commander';

/**
 * `posestream bench tracker`: the tracker's cost per frame on a synthetic crowd (default 15 people walking across a
 * 1920×1080 view, crossing, briefly hidden, entering and leaving, with jittered boxes and keypoints). Measured in
 * the same run: the same tracker with the pose term off (box IoU only, ByteTrack's cost) as the baseline, and the
 * cost of serialising the state (what a worker persists for hand-over). Target: <= 0.5 ms per frame with 15 people.
 */
export interface TrackerBenchOptions {
  people: number;
  frames: number;
  rounds: number;
  fps: number;
}

export interface TrackerBenchResult {
  people: number;
  frames: number;
  rounds: number;
  /** Median over rounds of the mean ms per frame. */
  tracker_ms_per_frame: number;
  iou_only_ms_per_frame: number;
  /** tracker / IoU-only: what the pose term costs. */
  ratio_vs_iou_only: number;
  /** tracker / 0.5 ms target (<= 1 meets it). */
  ratio_vs_target: number;
  state_serialise_ms: number;
  state_bytes: number;
  tracks_alive: number;
}

const TARGET_MS = 0.5;

export function registerBench(bench: Command): void {
  bench
    .command('tracker')
    .description('PoseTracker ms per frame on a synthetic crowd vs the same tracker on box IoU only (target <= 0.5 ms at 15 people)')
    .option('--people <n>', 'people in view at a time', '15')
    .option('--frames <n>', 'frames per round', '3000')
    .option('--rounds <n>', 'rounds (the median is reported)', '5')
    .option('--fps <n>', 'frame rate of the synthetic stream', '30')
    .option('--json', 'print one JSON object')
    .action(async (options: Record<string, string | boolean | undefined>) => {
      const result = await runTrackerBench({
        people: Number(options.people),
        frames: Number(options.frames),
        rounds: Number(options.rounds),
        fps: Number(options.fps),
      });
      process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${formatTrackerBench(result)}\n`);
    });
}

interface Walker {
  x: number;
  y: number;
  vx: number;
  vy: number;
  h: number;
  hiddenUntil: number;
}

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Frames of a crowd: people walk at 0.3-1.5 heights/s, leave at the edges and are replaced; 2% hide for ~0.5 s. */
export async function crowdFrames(people: number, frames: number, fps: number) {
  const { KEYPOINT_COUNT } = await import('../../pipeline/wire/v1.js');
  type Person = import('../../pipeline/wire/v1.js').Person;
  const random = seeded(42);
  const spawn = (): Walker => {
    const h = 120 + random() * 380;
    const speed = (0.3 + random() * 1.2) * h * (random() < 0.5 ? -1 : 1);
    return { x: random() * 1920, y: 300 + random() * 600, vx: speed, vy: (random() - 0.5) * 0.2 * h, h, hiddenUntil: -1 };
  };
  const walkers = Array.from({ length: people }, spawn);
  const out: Person[][] = [];
  for (let f = 0; f < frames; f++) {
    const persons: Person[] = [];
    walkers.forEach((w, i) => {
      w.x += w.vx / fps;
      w.y += w.vy / fps;
      if (w.x < -100 || w.x > 2020) walkers[i] = spawn();
      if (w.hiddenUntil < f && random() < 0.02 / fps * 30) w.hiddenUntil = f + Math.round(fps / 2);
      if (w.hiddenUntil >= f) return;
      const jitter = () => (random() - 0.5) * 0.02 * w.h;
      const width = 0.4 * w.h;
      persons.push({
        box: [w.x - width / 2 + jitter(), w.y - w.h / 2 + jitter(), w.x + width / 2 + jitter(), w.y + w.h / 2 + jitter()],
        score: 0.3 + random() * 0.65,
        keypoints: Array.from({ length: KEYPOINT_COUNT }, (_, k) => [w.x + ((k % 5) - 2) * 0.1 * width + jitter(), w.y + (k / KEYPOINT_COUNT - 0.45) * w.h + jitter(), 0.3 + random() * 0.7] as [number, number, number]),
      });
    });
    out.push(persons);
  }
  return out;
}

export async function runTrackerBench(options: TrackerBenchOptions): Promise<TrackerBenchResult> {
  const { PoseTracker } = await import('../../pipeline/tracking/tracker.js');
  const { trackerConfig } = await import('../../pipeline/tracking/config.js');
  const frames = await crowdFrames(options.people, options.frames, options.fps);
  const interval = 1000 / options.fps;
  const timeRun = (poseWeight: number) => {
    const tracker = new PoseTracker(trackerConfig({ poseWeight }));
    const started = performance.now();
    frames.forEach((persons, i) => tracker.update(i * interval, persons));
    return { ms: (performance.now() - started) / frames.length, tracker };
  };
  timeRun(0.5); // warm-up: JIT both paths before measuring
  timeRun(0);
  const pose: number[] = [];
  const iouOnly: number[] = [];
  let last = timeRun(0.5).tracker;
  for (let round = 0; round < options.rounds; round++) {
    // Alternate, so that load from other processes hits both alike.
    const measured = timeRun(0.5);
    pose.push(measured.ms);
    last = measured.tracker;
    iouOnly.push(timeRun(0).ms);
  }
  const serialiseRounds = 200;
  let text = '';
  const started = performance.now();
  for (let i = 0; i < serialiseRounds; i++) text = JSON.stringify(last.toJSON());
  const trackerMs = median(pose);
  const iouMs = median(iouOnly);
  return {
    people: options.people,
    frames: options.frames,
    rounds: options.rounds,
    tracker_ms_per_frame: round4(trackerMs),
    iou_only_ms_per_frame: round4(iouMs),
    ratio_vs_iou_only: round4(trackerMs / iouMs),
    ratio_vs_target: round4(trackerMs / TARGET_MS),
    state_serialise_ms: round4((performance.now() - started) / serialiseRounds),
    state_bytes: text.length,
    tracks_alive: last.trackCount,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

export function formatTrackerBench(r: TrackerBenchResult): string {
  return [
    `tracker, ${r.people} people, ${r.frames} frames x ${r.rounds} rounds (median):`,
    `  pose-aware   ${r.tracker_ms_per_frame.toFixed(3)} ms/frame  (${r.ratio_vs_target.toFixed(2)} x the ${TARGET_MS} ms target)`,
    `  IoU only     ${r.iou_only_ms_per_frame.toFixed(3)} ms/frame  (pose costs ${r.ratio_vs_iou_only.toFixed(2)} x)`,
    `  state        ${r.state_bytes} bytes for ${r.tracks_alive} tracks, serialised in ${r.state_serialise_ms.toFixed(3)} ms`,
  ].join('\n');
}
