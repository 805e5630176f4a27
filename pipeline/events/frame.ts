/**
 * What the engine reads from a tracked pose result, and the media clock it runs on. A PoseResult whose persons
 * carry a trackId fits `EngineFrame` as it is. Pure.
 */
import type { Person } from '../wire/v1.js';

export type TrackedPerson = Person & { trackId?: number };

export interface EngineFrame {
  streamId: string;
  seq: number;
  captureTs: number;
  /** Media time (ms) of the frame when the source has one (files, RTSP): rules time themselves on it. */
  ptsMs?: number;
  sourceWidth: number;
  sourceHeight: number;
  persons: TrackedPerson[];
  publishedTs: number;
}

/** Where an event started or was decided: copied into its seq/captureTs/ptsMs or atSeq/atCaptureTs. */
export interface FrameRef {
  seq: number;
  captureTs: number;
  ptsMs?: number;
}

export function frameRef(frame: EngineFrame): FrameRef {
  return frame.ptsMs === undefined ? { seq: frame.seq, captureTs: frame.captureTs } : { seq: frame.seq, captureTs: frame.captureTs, ptsMs: frame.ptsMs };
}

/**
 * The frame's time on the media timeline when it has one, else its capture time: a lossless file is processed
 * faster than real time, so capture times would compress every duration.
 */
export function frameTimeMs(frame: EngineFrame): number {
  return frame.ptsMs ?? frame.captureTs;
}

/** Longest step the engine clock takes between two frames (a pause, a seek or a reconnect is not "time down"). */
export const MAX_CLOCK_STEP_MS = 2000;

/**
 * The engine clock only moves forward: a step backwards (a looping file restarts its timestamps) or a jump
 * (reconnect) advances it by 0 or MAX_CLOCK_STEP_MS instead, so durations stay meaningful across both.
 */
export function advanceClock(clockMs: number, lastTimeMs: number | undefined, timeMs: number): number {
  if (lastTimeMs === undefined) return clockMs;
  const step = timeMs - lastTimeMs;
  if (!(step > 0)) return clockMs;
  return clockMs + Math.min(step, MAX_CLOCK_STEP_MS);
}
