/**
 * Posture changes per track with hysteresis: a new per-frame posture (posture-classifier.ts) must hold for
 * `minStableSec` before it replaces the reported one; 'unknown' frames (too few keypoints) neither confirm nor
 * break a candidate. The first stable posture of a track is reported too (previous: null). Pure.
 */
import type { Posture } from '../wire/v1.js';
import type { PostureRuleConfig } from './config.js';
import type { FrameRef } from './frame.js';

export interface PostureState {
  /** The reported posture; absent until the first one is stable. */
  current?: Posture;
  candidate?: Posture;
  /** Engine clock and frame where the candidate started. */
  candidateSinceMs?: number;
  candidateFrame?: FrameRef;
}

export interface PostureOutcome {
  start: FrameRef;
  posture: Posture;
  previous: Posture | null;
}

export function stepPosture(state: PostureState, observed: Posture, clockMs: number, frame: FrameRef, config: PostureRuleConfig): PostureOutcome | undefined {
  if (observed === 'unknown') return undefined;
  if (observed === state.current) {
    clearCandidate(state);
    return undefined;
  }
  if (observed !== state.candidate) {
    state.candidate = observed;
    state.candidateSinceMs = clockMs;
    state.candidateFrame = frame;
    return undefined;
  }
  if (clockMs - state.candidateSinceMs! < config.minStableSec * 1000) return undefined;
  const outcome: PostureOutcome = { start: state.candidateFrame!, posture: observed, previous: state.current ?? null };
  state.current = observed;
  clearCandidate(state);
  return outcome;
}

function clearCandidate(state: PostureState): void {
  delete state.candidate;
  delete state.candidateSinceMs;
  delete state.candidateFrame;
}
