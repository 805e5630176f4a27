/**
 * Zones: a track is inside a zone when its feet anchor (normalised) is inside the polygon; a change must hold
 * for `debounceSec` before `zone_enter`/`zone_exit` fires (and the event starts where the change began). `dwell`
 * fires once per stay after `dwellSec`. Occupancy is counted by the engine from these memberships. Pure.
 */
import type { ZoneConfig } from './config.js';
import type { FrameRef } from './frame.js';

export interface ZoneTrackState {
  inside: boolean;
  /** The raw membership differs from `inside` since then. */
  pendingSinceMs?: number;
  pendingFrame?: FrameRef;
  /** Current stay (inside only). */
  enteredMs?: number;
  enteredFrame?: FrameRef;
  dwellReported?: boolean;
}

export interface ZoneOutcome {
  type: 'zone_enter' | 'zone_exit' | 'dwell';
  start: FrameRef;
  attributes: Record<string, number>;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

export function stepZone(state: ZoneTrackState, rawInside: boolean, clockMs: number, frame: FrameRef, zone: ZoneConfig): ZoneOutcome[] {
  const outcomes: ZoneOutcome[] = [];
  if (rawInside === state.inside) {
    delete state.pendingSinceMs;
    delete state.pendingFrame;
  } else {
    state.pendingSinceMs ??= clockMs;
    state.pendingFrame ??= frame;
    if (clockMs - state.pendingSinceMs >= zone.debounceSec * 1000) {
      const changedAt = state.pendingSinceMs;
      const start = state.pendingFrame;
      delete state.pendingSinceMs;
      delete state.pendingFrame;
      if (rawInside) {
        state.inside = true;
        state.enteredMs = changedAt;
        state.enteredFrame = start;
        state.dwellReported = false;
        outcomes.push({ type: 'zone_enter', start, attributes: {} });
      } else {
        outcomes.push(exitOutcome(state, changedAt, start));
      }
    }
  }
  if (state.inside && zone.dwellSec !== undefined && !state.dwellReported && clockMs - state.enteredMs! >= zone.dwellSec * 1000) {
    state.dwellReported = true;
    outcomes.push({ type: 'dwell', start: state.enteredFrame!, attributes: { durationSec: round((clockMs - state.enteredMs!) / 1000) } });
  }
  return outcomes;
}

/** Leaves the zone (also when the track is forgotten while inside). */
export function exitOutcome(state: ZoneTrackState, atMs: number, start: FrameRef): ZoneOutcome {
  const durationSec = round((atMs - (state.enteredMs ?? atMs)) / 1000);
  state.inside = false;
  delete state.enteredMs;
  delete state.enteredFrame;
  delete state.dwellReported;
  return { type: 'zone_exit', start, attributes: { durationSec } };
}
