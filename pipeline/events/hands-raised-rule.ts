/**
 * Hands raised: both wrists (or either, by config) above the top of the head by `margin` x H for at least
 * `minDurationMs`; reported once per raise. A raise ends after the hands are down for `releaseMs` (a dropped
 * keypoint for a frame or two does not split one raise into two). Only for a person who is not lying: "above the
 * head" means nothing for someone on the floor. The head top is the highest confident face keypoint; without
 * one, the shoulders minus 0.1 H (where the eyes are on an upright person). Pure.
 */
import type { BodyObservation } from './body.js';
import type { HandsRaisedRuleConfig } from './config.js';
import type { FrameRef } from './frame.js';

export interface HandsState {
  /** Raised (continuously, up to releaseMs gaps) since this clock time and frame. */
  sinceMs?: number;
  sinceFrame?: FrameRef;
  /** Last time the condition held. */
  lastUpMs?: number;
  /** This raise was already reported. */
  reported?: boolean;
}

export interface HandsOutcome {
  start: FrameRef;
  hands: 'both' | 'left' | 'right';
  heldMs: number;
}

const HEAD_ABOVE_SHOULDERS = 0.1;

function raisedHands(observation: BodyObservation, height: number, margin: number): { left: boolean; right: boolean } {
  const headTop = observation.headY ?? (observation.shoulders ? observation.shoulders.y - HEAD_ABOVE_SHOULDERS * height : undefined);
  if (headTop === undefined) return { left: false, right: false };
  const limit = headTop - margin * height;
  return {
    left: observation.wrists.left !== undefined && observation.wrists.left.y < limit,
    right: observation.wrists.right !== undefined && observation.wrists.right.y < limit,
  };
}

export function stepHandsRaised(
  state: HandsState,
  observation: BodyObservation,
  height: number,
  lying: boolean,
  clockMs: number,
  frame: FrameRef,
  config: HandsRaisedRuleConfig,
): HandsOutcome | undefined {
  const { left, right } = lying ? { left: false, right: false } : raisedHands(observation, height, config.margin);
  const up = config.hands === 'both' ? left && right : left || right;
  if (!up) {
    if (state.lastUpMs !== undefined && clockMs - state.lastUpMs >= config.releaseMs) {
      delete state.sinceMs;
      delete state.sinceFrame;
      delete state.lastUpMs;
      delete state.reported;
    }
    return undefined;
  }
  state.sinceMs ??= clockMs;
  state.sinceFrame ??= frame;
  state.lastUpMs = clockMs;
  const heldMs = clockMs - state.sinceMs;
  if (state.reported || heldMs < config.minDurationMs) return undefined;
  state.reported = true;
  return { start: state.sinceFrame, hands: left && right ? 'both' : left ? 'left' : 'right', heldMs };
}
