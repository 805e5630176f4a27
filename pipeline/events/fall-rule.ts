/**
 * Fall: a tracked person's upper body drops a large part of their height within a short time, the hips drop too,
 * and the person stays down, lying or at floor level, for `minDownSec`; `recovered` once up again. Pure state
 * machine over one track's observations; the engine owns the state and emits the outcomes.
 *
 * Why each condition (all lengths x H, the person's standing height, so they hold at any distance):
 * - upper drop >= minUpperDrop (0.4) within maxFallSec (2 s), measured from the highest point of that window:
 *   sitting down drops the shoulders ~0.2-0.3, lying down deliberately takes longer than 2 s.
 * - hip drop >= minHipDrop (0.15) when the hips are visible: bending forward to the floor (seated or standing)
 *   moves the shoulders but not the hips.
 * - down = lying-like (torso or body axis >= lyingAngleDeg from vertical with legs not hanging, or a wide box) or
 *   shoulders within nearFloor (0.15) of the floor line where the feet stood before the drop (a person lying
 *   straight towards or away from the camera looks short and upright, but is at floor level): a deep squat
 *   drops as much and as fast as a fall, and keeps the shoulders ~0.3 above the floor.
 * - still down minDownSec after the drop: a squat or a stumble comes back up.
 * A track that gets up (upper drop < recoverDrop, not lying) for recoverSec after a fall has `recovered`.
 */
import type { BodyObservation } from './body.js';
import type { FallRuleConfig, LyingConfig } from './config.js';
import type { FrameRef } from './frame.js';
import { looksHorizontal } from './posture-classifier.js';

/** One remembered moment of the track before a fall: where its body was. */
export interface FallSample {
  clockMs: number;
  frame: FrameRef;
  boxTop: number;
  shoulderY?: number;
  hipY?: number;
  /** Ankles, else the bottom of the box: the floor line while standing. */
  feetY: number;
  height: number;
}

export type FallPhase = 'watching' | 'falling' | 'down';

export interface FallState {
  phase: FallPhase;
  /** Track this history started on (a track split mid-fall hands its history to the new track). */
  lineage: number;
  /** watching: samples of the last maxFallSec, at most one per SAMPLE_INTERVAL_MS. */
  history: FallSample[];
  /** falling/down: the highest point before the drop, and where the drop began. */
  ref?: FallSample;
  onset?: FrameRef;
  /** falling: when the drop crossed minUpperDrop; down-like since when (continuously). */
  droppedAtMs?: number;
  lyingSinceMs?: number;
  /** falling: detection scores while falling, for the event's confidence. */
  scoreSum: number;
  scoreCount: number;
  /** down: whether the fall was reported (not when a suppressing zone held the person), and by which track. */
  alerted?: boolean;
  alertedTrackId?: number;
  /**
   * Seen up since (falling: no longer dropped, cancels after UP_TOLERANCE_MS; down: getting up, recovered after
   * recoverSec). Frames without the person do not count as up.
   */
  upSinceMs?: number;
  upFrame?: FrameRef;
  fallFrame?: FrameRef;
}

export interface FallInput {
  clockMs: number;
  frame: FrameRef;
  observation: BodyObservation;
  height: number;
  score: number;
  /** The track's feet are in a zone that suppresses falls. */
  suppressed: boolean;
  /** Another track of the same lineage already reported this fall. */
  lineageAlerted: boolean;
  lying: LyingConfig;
}

export interface FallOutcome {
  type: 'fall' | 'recovered';
  start: FrameRef;
  /** recovered: the track that reported the fall. */
  fellAs?: number;
  confidence: number;
  attributes: Record<string, number | string | boolean | null>;
}

const SAMPLE_INTERVAL_MS = 100;
/** Seen up again (not dropped) this long while falling cancels it; one odd frame (a bad box) does not. */
const UP_TOLERANCE_MS = 400;
/** Down-like must hold this long (continuously) at the decisive frame. */
const MIN_LYING_MS = 200;
/** Still dropped but never down-like this long after the drop: a deep crouch, not a fall. */
const LYING_GRACE_MS = 1500;
/** A drop counts as "still down" while at least this fraction of minUpperDrop remains. */
const HOLD_FRACTION = 0.75;
/** The drop began at the last sample within this much (x H) of the highest point. */
const ONSET_TOLERANCE = 0.05;

export function newFallState(lineage: number): FallState {
  return { phase: 'watching', lineage, history: [], scoreSum: 0, scoreCount: 0 };
}

export function fallSample(input: Pick<FallInput, 'clockMs' | 'frame' | 'observation' | 'height'>): FallSample {
  const { observation } = input;
  const sample: FallSample = {
    clockMs: input.clockMs,
    frame: input.frame,
    boxTop: observation.box[1],
    feetY: observation.ankles?.y ?? observation.box[3],
    height: input.height,
  };
  if (observation.shoulders) sample.shoulderY = observation.shoulders.y;
  if (observation.hips) sample.hipY = observation.hips.y;
  return sample;
}

/** How far (x ref H) the upper body is below the reference: shoulders and box top, whichever shows more. */
function upperDrop(ref: FallSample, current: FallSample): number {
  const byBox = current.boxTop - ref.boxTop;
  const byShoulders = ref.shoulderY !== undefined && current.shoulderY !== undefined ? current.shoulderY - ref.shoulderY : -Infinity;
  return Math.max(byBox, byShoulders) / ref.height;
}

function hipDrop(ref: FallSample, current: FallSample): number | undefined {
  return ref.hipY !== undefined && current.hipY !== undefined ? (current.hipY - ref.hipY) / ref.height : undefined;
}

/**
 * Lying, or shoulders at floor level. The floor-level cue needs the hips in view: head and shoulders at the bottom
 * border with the rest cut off may belong to someone standing below the frame (going down stairs).
 */
function isDownLike(input: FallInput, ref: FallSample, config: FallRuleConfig): boolean {
  if (looksHorizontal(input.observation, ref.height, input.lying)) return true;
  const { shoulders, hips } = input.observation;
  return shoulders !== undefined && hips !== undefined && (ref.feetY - shoulders.y) / ref.height <= config.nearFloor;
}

/** The highest sample of the window (smallest upper-body y), and the last one still near it: the onset. */
function findReference(history: FallSample[]): { ref: FallSample; onset: FallSample } | undefined {
  let ref: FallSample | undefined;
  for (const sample of history) if (!ref || sample.boxTop < ref.boxTop) ref = sample;
  if (!ref) return undefined;
  let onset = ref;
  for (const sample of history) {
    if (sample.clockMs > onset.clockMs && upperDrop(ref, sample) <= ONSET_TOLERANCE) onset = sample;
  }
  return { ref, onset };
}

function remember(state: FallState, sample: FallSample, config: FallRuleConfig): void {
  const last = state.history[state.history.length - 1];
  if (!last || sample.clockMs - last.clockMs >= SAMPLE_INTERVAL_MS) state.history.push(sample);
  const oldest = sample.clockMs - config.maxFallSec * 1000;
  while (state.history.length > 0 && state.history[0]!.clockMs < oldest) state.history.shift();
}

function resetToWatching(state: FallState): void {
  state.phase = 'watching';
  state.history = [];
  for (const key of ['ref', 'onset', 'droppedAtMs', 'lyingSinceMs', 'alerted', 'alertedTrackId', 'upSinceMs', 'upFrame', 'fallFrame'] as const) delete state[key];
  state.scoreSum = 0;
  state.scoreCount = 0;
}

export function stepFall(state: FallState, input: FallInput, config: FallRuleConfig): FallOutcome | undefined {
  const current = fallSample(input);
  if (state.phase === 'watching') {
    watch(state, input, current, config);
    return undefined;
  }
  if (state.phase === 'falling') return confirm(state, input, current, config);
  return recover(state, input, current, config);
}

function watch(state: FallState, input: FallInput, current: FallSample, config: FallRuleConfig): void {
  const found = findReference(state.history);
  remember(state, current, config);
  if (!found) return;
  const { ref, onset } = found;
  // A person walking towards the camera also moves down the frame, but grows: a fall does not make anyone taller.
  if (input.observation.segmentHeight !== undefined && input.observation.segmentHeight > 1.3 * ref.height) return;
  if (upperDrop(ref, current) < config.minUpperDrop) return;
  const hips = hipDrop(ref, current);
  if (hips !== undefined && hips < config.minHipDrop) return;
  state.phase = 'falling';
  state.ref = ref;
  state.onset = onset.frame;
  state.droppedAtMs = input.clockMs;
  state.scoreSum = input.score;
  state.scoreCount = 1;
  if (isDownLike(input, ref, config)) state.lyingSinceMs = input.clockMs;
}

function confirm(state: FallState, input: FallInput, current: FallSample, config: FallRuleConfig): FallOutcome | undefined {
  const ref = state.ref!;
  const now = input.clockMs;
  const dropped = upperDrop(ref, current) >= HOLD_FRACTION * config.minUpperDrop;
  const downLike = dropped && isDownLike(input, ref, config);
  if (dropped) delete state.upSinceMs;
  else state.upSinceMs ??= now;
  if (downLike) state.lyingSinceMs ??= now;
  else delete state.lyingSinceMs;
  state.scoreSum += input.score;
  state.scoreCount += 1;
  const sinceDrop = now - state.droppedAtMs!;
  const upTooLong = state.upSinceMs !== undefined && now - state.upSinceMs >= UP_TOLERANCE_MS;
  if (upTooLong || (state.lyingSinceMs === undefined && sinceDrop > config.minDownSec * 1000 + LYING_GRACE_MS)) {
    resetToWatching(state);
    remember(state, current, config);
    return undefined;
  }
  if (state.lyingSinceMs === undefined || sinceDrop < config.minDownSec * 1000 || now - state.lyingSinceMs < MIN_LYING_MS) return undefined;
  if (input.suppressed) {
    // Lying down in a zone that ignores falls (a bed): this drop is over, the person's new place is the baseline.
    resetToWatching(state);
    remember(state, current, config);
    return undefined;
  }
  state.phase = 'down';
  delete state.upSinceMs;
  state.fallFrame = input.frame;
  state.alerted = !input.lineageAlerted;
  if (!state.alerted) return undefined;
  const onsetMs = state.history.find((sample) => sample.frame.seq === state.onset!.seq)?.clockMs;
  return {
    type: 'fall',
    start: state.onset!,
    confidence: Math.min(1, state.scoreSum / state.scoreCount),
    attributes: {
      drop: round(upperDrop(ref, current)),
      hipDrop: hipDrop(ref, current) === undefined ? null : round(hipDrop(ref, current)!),
      downSec: round((now - state.droppedAtMs!) / 1000),
      heightPx: Math.round(ref.height),
      ...(onsetMs === undefined ? {} : { fallSec: round((state.droppedAtMs! - onsetMs) / 1000) }),
    },
  };
}

function recover(state: FallState, input: FallInput, current: FallSample, config: FallRuleConfig): FallOutcome | undefined {
  const ref = state.ref!;
  const up = upperDrop(ref, current) < config.recoverDrop && !looksHorizontal(input.observation, ref.height, input.lying);
  if (!up) {
    delete state.upSinceMs;
    delete state.upFrame;
    return undefined;
  }
  state.upSinceMs ??= input.clockMs;
  state.upFrame ??= input.frame;
  if (input.clockMs - state.upSinceMs < config.recoverSec * 1000) return undefined;
  const alerted = state.alerted;
  const fellAs = state.alertedTrackId;
  const start = state.upFrame;
  const downSec = (state.upSinceMs - (state.droppedAtMs ?? state.upSinceMs)) / 1000;
  resetToWatching(state);
  remember(state, current, config);
  if (!alerted) return undefined;
  return { type: 'recovered', start, ...(fellAs === undefined ? {} : { fellAs }), confidence: Math.min(1, input.score), attributes: { downSec: round(downSec) } };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
