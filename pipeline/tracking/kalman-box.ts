/**
 * Constant-velocity Kalman filter of a box's centre and size (cx, cy, w, h and their velocities), BoT-SORT's
 * xywh parametrisation: width and height are filtered separately, so a person who crouches or raises an arm
 * changes the box without fighting an aspect-ratio prior. Noise is relative to box size (std = weight × w or h),
 * so the same settings hold for a 60-pixel person far away and a 600-pixel one close by.
 *
 * Driven by time, not frame counts: every published default assumes a 30 fps frame step, so time is measured in
 * reference frames of 1/30 s and the process noise variance grows linearly with the elapsed time (a random
 * walk), which keeps the filter right across frame drops and live-stream gaps.
 *
 * With diagonal process and measurement noise and a diagonal initial covariance, the 8×8 covariance stays block
 * diagonal: four independent (position, velocity) filters. Each keeps its 2×2 covariance as (pp, pv, vv); that is
 * exact (not an approximation) and needs ~40 multiplications per step instead of 8×8 matrix products.
 */

export const REFERENCE_FRAME_MS = 1000 / 30;

/** [cx, cy, w, h, vcx, vcy, vw, vh, then (pp, pv, vv) for cx, cy, w, h]; velocities per reference frame. */
export type KalmanState = Float64Array;
export const KALMAN_STATE_LENGTH = 20;

export interface MotionNoise {
  /** Position noise std as a fraction of the box side (ByteTrack, BoT-SORT: 1/20). */
  position: number;
  /** Velocity noise std per reference frame as a fraction of the box side (1/160). */
  velocity: number;
}

const COV = 8;
/** Noise of cx and w scales with the width, of cy and h with the height. */
const SCALE_AXIS = [2, 3, 2, 3] as const;
const MIN_SIDE = 1;

function side(state: KalmanState, axis: number): number {
  return Math.max(MIN_SIDE, state[SCALE_AXIS[axis]!]!);
}

/** A new filter at a measured box [cx, cy, w, h], with ByteTrack's initial uncertainty (2σp, 10σv). */
export function initiateKalman(measurement: readonly number[], noise: MotionNoise): KalmanState {
  const state = new Float64Array(KALMAN_STATE_LENGTH);
  for (let axis = 0; axis < 4; axis++) state[axis] = measurement[axis]!;
  for (let axis = 0; axis < 4; axis++) {
    const s = side(state, axis);
    const base = COV + axis * 3;
    state[base] = (2 * noise.position * s) ** 2;
    state[base + 1] = 0;
    state[base + 2] = (10 * noise.velocity * s) ** 2;
  }
  return state;
}

/** Moves the filter `frames` reference frames ahead (fractions allowed; 0 leaves it unchanged). */
export function predictKalman(state: KalmanState, frames: number, noise: MotionNoise): void {
  if (!(frames > 0)) return;
  for (let axis = 0; axis < 4; axis++) {
    const s = side(state, axis);
    const qp = (noise.position * s) ** 2 * frames;
    const qv = (noise.velocity * s) ** 2 * frames;
    const base = COV + axis * 3;
    const pp = state[base]!;
    const pv = state[base + 1]!;
    const vv = state[base + 2]!;
    state[axis] = state[axis]! + state[axis + 4]! * frames;
    state[base] = pp + 2 * pv * frames + vv * frames * frames + qp;
    state[base + 1] = pv + vv * frames;
    state[base + 2] = vv + qv;
  }
  // A box cannot shrink below a pixel however long it is extrapolated.
  if (state[2]! < MIN_SIDE) state[2] = MIN_SIDE;
  if (state[3]! < MIN_SIDE) state[3] = MIN_SIDE;
}

/**
 * Corrects the filter with a measured box. `noiseScale` multiplies the measurement variance: StrongSORT's
 * NSA Kalman passes (1 - detection score), so a confident detection pulls harder than an occluded one.
 */
export function updateKalman(state: KalmanState, measurement: readonly number[], noise: MotionNoise, noiseScale = 1): void {
  for (let axis = 0; axis < 4; axis++) {
    const s = side(state, axis);
    const r = (noise.position * s) ** 2 * noiseScale;
    const base = COV + axis * 3;
    const pp = state[base]!;
    const pv = state[base + 1]!;
    const vv = state[base + 2]!;
    const innovation = measurement[axis]! - state[axis]!;
    const gainP = pp / (pp + r);
    const gainV = pv / (pp + r);
    state[axis] = state[axis]! + gainP * innovation;
    state[axis + 4] = state[axis + 4]! + gainV * innovation;
    state[base] = (1 - gainP) * pp;
    state[base + 1] = (1 - gainP) * pv;
    state[base + 2] = vv - gainV * pv;
  }
}

/** While a track is lost its size is held (Ultralytics zeroes the height velocity): a box never balloons. */
export function holdKalmanSize(state: KalmanState): void {
  state[6] = 0;
  state[7] = 0;
}

/** Position variance of the centre (mean of x and y), the prediction's uncertainty in pixels². */
export function centreVariance(state: KalmanState): number {
  return (state[COV]! + state[COV + 3]!) / 2;
}

/** The filtered box as [x1, y1, x2, y2]. */
export function kalmanBox(state: KalmanState): [number, number, number, number] {
  const [cx, cy, w, h] = [state[0]!, state[1]!, state[2]!, state[3]!];
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}
