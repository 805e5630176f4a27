/**
 * A track's standing height H in pixels, the unit of every length threshold. Each frame's segment estimate is a
 * lower bound (foreshortening only shortens limbs), so the track keeps a decaying maximum: it follows a person
 * walking away (shrinking by at most SCALE_DECAY_PER_SEC) but does not collapse when they bend, sit or lie
 * towards the camera. Without any segment estimate yet, the box height stands in. Pure.
 */
import type { BodyObservation } from './body.js';

/** Fraction of H kept per second without a larger estimate: 0.9 follows walking away from the camera at ~10 %/s. */
export const SCALE_DECAY_PER_SEC = 0.9;

export interface ScaleState {
  /** Pixels. */
  height: number;
  /** Engine clock (ms) of the last update. */
  atMs: number;
  /** True once a segment estimate has been seen (before that `height` is the box height). */
  measured: boolean;
}

export function updateScale(previous: ScaleState | undefined, observation: BodyObservation, clockMs: number): ScaleState {
  const estimate = observation.segmentHeight;
  const boxHeight = observation.box[3] - observation.box[1];
  if (!previous) {
    return estimate === undefined ? { height: boxHeight, atMs: clockMs, measured: false } : { height: estimate, atMs: clockMs, measured: true };
  }
  const decayed = previous.height * Math.pow(SCALE_DECAY_PER_SEC, Math.max(0, clockMs - previous.atMs) / 1000);
  if (estimate === undefined) {
    return previous.measured ? { height: decayed, atMs: clockMs, measured: true } : { height: Math.max(boxHeight, decayed), atMs: clockMs, measured: false };
  }
  return { height: previous.measured ? Math.max(estimate, decayed) : estimate, atMs: clockMs, measured: true };
}
