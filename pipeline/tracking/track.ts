/**
 * One track: its motion filter, its pose (keypoints relative to its box) and its life cycle. Pure data plus the
 * functions that move it forward; the tracker decides which detection it gets.
 */
import { toCxcywh, type Box } from './box.js';
import type { TrackerConfig } from './config.js';
import {
  REFERENCE_FRAME_MS,
  holdKalmanSize,
  initiateKalman,
  kalmanBox,
  predictKalman,
  updateKalman,
  type KalmanState,
  type MotionNoise,
} from './kalman-box.js';
import { createOneEuroState, oneEuroStep, type OneEuroState } from './one-euro.js';

export const KEYPOINTS = 17;
export const FLAT_KEYPOINTS = KEYPOINTS * 3;

/** tentative: born, not yet confirmed (no id); tracked: matched in the last frame; lost: kept to be found again. */
export type TrackState = 'tentative' | 'tracked' | 'lost';

/** A detection as the tracker sees it: the wire's Person with its keypoints flattened once per frame. */
export interface Detection {
  box: Box;
  score: number;
  /** [x, y, conf] × 17, source pixels. */
  keypoints: Float64Array;
}

export interface Track {
  /** Internal, per stream, also for tentative tracks: orders tracks deterministically. */
  key: number;
  /** Public id, 0 until confirmed; never reused within a stream. */
  id: number;
  state: TrackState;
  kalman: KalmanState;
  /** The filter right after the last real observation (OC-SORT's re-update starts from it). */
  anchor: KalmanState;
  /** The last observed detection box and its time. */
  lastBox: Box;
  lastSeenMs: number;
  bornMs: number;
  hits: number;
  /** Frames predicted without an observation since lastSeenMs. */
  missed: number;
  /** [u, v, conf] × 17: keypoints relative to the box centre in box sides, the last confident sighting of each. */
  pose: Float64Array;
  /** One Euro state of the 34 keypoint coordinates, when smoothing is on. */
  smoothing: OneEuroState | undefined;
}

/** Reference frames of 1/30 s between two times (the unit the motion noise is defined in). */
export function referenceFrames(fromMs: number, toMs: number): number {
  return (toMs - fromMs) / REFERENCE_FRAME_MS;
}

export function motionNoise(config: TrackerConfig): MotionNoise {
  return { position: config.positionNoise, velocity: config.velocityNoise };
}

/** NSA Kalman (StrongSORT): measurement noise × (1 - score), floored so a 0.99 score still leaves some noise. */
function measurementScale(score: number): number {
  return Math.max(0.05, 1 - score);
}

export function createTrack(key: number, detection: Detection, timeMs: number, config: TrackerConfig): Track {
  const kalman = initiateKalman(toCxcywh(detection.box), motionNoise(config));
  const track: Track = {
    key,
    id: 0,
    state: 'tentative',
    kalman,
    anchor: kalman.slice(),
    lastBox: detection.box,
    lastSeenMs: timeMs,
    bornMs: timeMs,
    hits: 1,
    missed: 0,
    pose: new Float64Array(FLAT_KEYPOINTS),
    smoothing: config.smoothing.enabled ? createOneEuroState(keypointCoordinates(detection.keypoints)) : undefined,
  };
  rememberPose(track, detection, config.keypointConfidence);
  return track;
}

/** Moves the track's filter to `frames` reference frames later; a lost track keeps its size. */
export function predictTrack(track: Track, frames: number, config: TrackerConfig): void {
  if (track.state === 'lost') holdKalmanSize(track.kalman);
  predictKalman(track.kalman, frames, motionNoise(config));
}

/**
 * Feeds the matched detection. A track that missed frames is first re-run along a straight line from its last
 * observation to this one (OC-SORT's observation-centric re-update), so the velocity it drifted to while unseen
 * (ours keeps the last velocity) does not throw it off right after it is found again.
 */
export function observeTrack(track: Track, detection: Detection, timeMs: number, config: TrackerConfig): void {
  const noise = motionNoise(config);
  const measurement = toCxcywh(detection.box);
  if (track.missed > 0) reupdateAlongGap(track, measurement, timeMs, noise);
  updateKalman(track.kalman, measurement, noise, measurementScale(detection.score));
  if (!config.smoothing.enabled) track.smoothing = undefined;
  else if (!track.smoothing) track.smoothing = createOneEuroState(keypointCoordinates(detection.keypoints)); // switched on
  else smoothKeypoints(track, detection, (timeMs - track.lastSeenMs) / 1000, config);
  track.anchor.set(track.kalman);
  track.lastBox = detection.box;
  track.lastSeenMs = timeMs;
  track.hits++;
  track.missed = 0;
  rememberPose(track, detection, config.keypointConfidence);
}

/** OC-SORT caps nothing; a cap keeps a re-found track's cost bounded after a long gap at a high frame rate. */
const MAX_VIRTUAL_STEPS = 64;

function reupdateAlongGap(track: Track, measurement: readonly number[], timeMs: number, noise: MotionNoise): void {
  const steps = Math.min(track.missed, MAX_VIRTUAL_STEPS);
  const from = toCxcywh(track.lastBox);
  const kalman = track.anchor.slice();
  const stepFrames = referenceFrames(track.lastSeenMs, timeMs) / (steps + 1);
  const virtual = [0, 0, 0, 0];
  for (let step = 1; step <= steps; step++) {
    const fraction = step / (steps + 1);
    for (let i = 0; i < 4; i++) virtual[i] = from[i]! + (measurement[i]! - from[i]!) * fraction;
    predictKalman(kalman, stepFrames, noise);
    updateKalman(kalman, virtual, noise);
  }
  predictKalman(kalman, stepFrames, noise);
  track.kalman = kalman;
}

/**
 * The pose is kept to 1e-4 of the box side (0.02 px on a 200 px person) and 1e-4 of confidence: far below what
 * matters for association, and it keeps the serialised state short (`0.1234`, not 17 digits).
 */
function quantise(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}

function rememberPose(track: Track, detection: Detection, minConfidence: number): void {
  const [cx, cy, w, h] = toCxcywh(detection.box);
  const kp = detection.keypoints;
  for (let k = 0; k < FLAT_KEYPOINTS; k += 3) {
    const confidence = kp[k + 2]!;
    // An unsure keypoint (hidden, out of frame) keeps the last confident sighting of that joint.
    if (confidence < minConfidence && track.pose[k + 2]! >= minConfidence) continue;
    track.pose[k] = w > 0 ? quantise((kp[k]! - cx) / w) : 0;
    track.pose[k + 1] = h > 0 ? quantise((kp[k + 1]! - cy) / h) : 0;
    track.pose[k + 2] = quantise(confidence);
  }
}

/** The track's keypoints placed in `box` (its predicted box), flat [x, y, conf] × 17 into `out`. */
export function placePose(track: Track, box: Box, out: Float64Array): Float64Array {
  const [cx, cy, w, h] = toCxcywh(box);
  for (let k = 0; k < FLAT_KEYPOINTS; k += 3) {
    out[k] = cx + track.pose[k]! * w;
    out[k + 1] = cy + track.pose[k + 1]! * h;
    out[k + 2] = track.pose[k + 2]!;
  }
  return out;
}

export function predictedBox(track: Track): Box {
  return kalmanBox(track.kalman);
}

function keypointCoordinates(keypoints: Float64Array): number[] {
  const coordinates: number[] = [];
  for (let k = 0; k < FLAT_KEYPOINTS; k += 3) coordinates.push(keypoints[k]!, keypoints[k + 1]!);
  return coordinates;
}

function smoothKeypoints(track: Track, detection: Detection, dtSeconds: number, config: TrackerConfig): void {
  const [, , w, h] = toCxcywh(detection.box);
  const filtered: number[] = [];
  oneEuroStep(track.smoothing!, keypointCoordinates(detection.keypoints), dtSeconds, (w + h) / 2, config.smoothing, filtered);
}

/** Smoothed keypoints [x, y, conf] of the last observation (conf from the raw detection). */
export function smoothedKeypoints(track: Track, raw: Float64Array): Array<[number, number, number]> | undefined {
  const state = track.smoothing;
  if (!state) return undefined;
  const keypoints: Array<[number, number, number]> = [];
  for (let k = 0; k < KEYPOINTS; k++) keypoints.push([state[k * 4]!, state[k * 4 + 2]!, raw[k * 3 + 2]!]);
  return keypoints;
}
