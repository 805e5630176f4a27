/**
 * One Euro filter (Casiez, Roussel, Vogel, CHI 2012) for keypoint coordinates: a low-pass filter whose cutoff
 * rises with speed, so a still person's keypoints stop jittering while a fast arm is followed with little lag.
 * Speed is measured in object sizes per second (MediaPipe's landmark smoothing scales values by 1 / object
 * scale), so one setting serves people of every size; MediaPipe's pose defaults (min cutoff 0.05 Hz, beta 80,
 * derivative cutoff 1 Hz) are ours. Written here because it is a dozen lines and the npm implementations filter
 * one scalar per object (17 × 2 objects per person, each with its own clock) without the scale normalisation.
 */
export interface OneEuroOptions {
  /** Hz: the cutoff at rest (lower = smoother when still). */
  minCutoff: number;
  /** Cutoff increase per (object size / s) of speed (higher = less lag when moving). */
  beta: number;
  /** Hz: the cutoff of the speed estimate. */
  derivativeCutoff: number;
}

/** Filter state of n values: [value, derivative] pairs, updated in place. */
export type OneEuroState = Float64Array;

export function createOneEuroState(values: ArrayLike<number>): OneEuroState {
  const state = new Float64Array(values.length * 2);
  for (let i = 0; i < values.length; i++) state[i * 2] = values[i]!;
  return state;
}

function smoothingFactor(cutoffHz: number, dtSeconds: number): number {
  const r = 2 * Math.PI * cutoffHz * dtSeconds;
  return r / (r + 1);
}

/**
 * Filters `values` (same order as the state) `dtSeconds` after the previous call, writing the filtered values to
 * `out`. `scale` is the object size in the values' unit (pixels); dtSeconds <= 0 returns the previous values.
 */
export function oneEuroStep(
  state: OneEuroState,
  values: ArrayLike<number>,
  dtSeconds: number,
  scale: number,
  options: OneEuroOptions,
  out: number[],
): void {
  const alphaDerivative = smoothingFactor(options.derivativeCutoff, dtSeconds);
  const inverseScale = 1 / Math.max(1e-6, scale);
  for (let i = 0; i < values.length; i++) {
    const previous = state[i * 2]!;
    if (!(dtSeconds > 0)) {
      out[i] = previous;
      continue;
    }
    const derivative = state[i * 2 + 1]! + alphaDerivative * ((values[i]! - previous) / dtSeconds - state[i * 2 + 1]!);
    const cutoff = options.minCutoff + options.beta * Math.abs(derivative) * inverseScale;
    const filtered = previous + smoothingFactor(cutoff, dtSeconds) * (values[i]! - previous);
    state[i * 2] = filtered;
    state[i * 2 + 1] = derivative;
    out[i] = filtered;
  }
}
