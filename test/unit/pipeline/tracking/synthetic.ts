/**
 * Synthetic people for tracker tests: an upright COCO skeleton placed in a box, moved frame by frame. Deterministic
 * (a seeded generator for jitter) so every test fails or passes the same way each run.
 */
import type { Person } from '../../../../pipeline/wire/v1.js';
import type { TrackAnnotation, TrackerInput } from '../../../../pipeline/tracking/tracker.js';
import type { PoseTracker } from '../../../../pipeline/tracking/tracker.js';

/** Keypoints relative to the box centre in box sides (u right, v down), COCO order. */
const UPRIGHT: ReadonlyArray<readonly [number, number]> = [
  [0, -0.42], [0.03, -0.44], [-0.03, -0.44], [0.07, -0.42], [-0.07, -0.42],
  [0.2, -0.28], [-0.2, -0.28], [0.28, -0.12], [-0.28, -0.12], [0.3, 0.02], [-0.3, 0.02],
  [0.12, 0.02], [-0.12, 0.02], [0.12, 0.22], [-0.12, 0.22], [0.12, 0.45], [-0.12, 0.45],
];

export interface PersonSpec {
  cx: number;
  cy: number;
  /** Box height; width is 0.4 × height unless given. */
  h: number;
  w?: number;
  score?: number;
  keypointConfidence?: number;
  /** Added to every keypoint (pixels), e.g. to model a detector whose box is off but whose keypoints are right. */
  keypointShift?: readonly [number, number];
}

export function person(spec: PersonSpec): Person {
  const w = spec.w ?? 0.4 * spec.h;
  const [sx, sy] = spec.keypointShift ?? [0, 0];
  const conf = spec.keypointConfidence ?? 0.9;
  return {
    box: [spec.cx - w / 2, spec.cy - spec.h / 2, spec.cx + w / 2, spec.cy + spec.h / 2],
    score: spec.score ?? 0.85,
    keypoints: UPRIGHT.map(([u, v]) => [spec.cx + u * w + sx, spec.cy + v * spec.h + sy, conf] as [number, number, number]),
  };
}

/** A person with a box placed independently of its keypoints (the keypoints stay where `spec` puts them). */
export function withBox(base: Person, box: Person['box']): Person {
  return { ...base, box };
}

export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Gaussian noise (Box-Muller) from a seeded generator. */
export function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
}

export function jitter(p: Person, sigma: number, noise: () => number): Person {
  return {
    ...p,
    box: p.box.map((v) => v + sigma * noise()) as Person['box'],
    keypoints: p.keypoints.map(([x, y, c]) => [x + sigma * noise(), y + sigma * noise(), c] as [number, number, number]),
  };
}

export function scaled(p: Person, k: number): Person {
  return {
    ...p,
    box: p.box.map((v) => v * k) as Person['box'],
    keypoints: p.keypoints.map(([x, y, c]) => [x * k, y * k, c] as [number, number, number]),
  };
}

/** Feeds frames at `fps` from `startMs`, returns the annotations of each frame. */
export function run(tracker: PoseTracker, frames: ReadonlyArray<readonly TrackerInput[]>, fps = 30, startMs = 0): TrackAnnotation[][] {
  return frames.map((persons, index) => tracker.update(startMs + (index * 1000) / fps, persons));
}

export function ids(annotations: readonly TrackAnnotation[]): Array<number | undefined> {
  return annotations.map((annotation) => annotation.trackId);
}
