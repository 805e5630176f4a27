/**
 * The engine's whole memory of a stream, as plain JSON: the worker stores it with each batch it publishes and a
 * new owner of the stream restores it, so events continue exactly (no repeat, no loss). The zod schema checks a
 * stored state before it is trusted; each schema is typed against the interface of the module that owns that
 * part, so the two cannot drift apart.
 */
import { z } from 'zod';
import type { ScaleState } from './body-scale.js';
import type { FallSample, FallState } from './fall-rule.js';
import type { FrameRef } from './frame.js';
import type { HandsState } from './hands-raised-rule.js';
import type { LineTrackState } from './line-rule.js';
import type { PostureState } from './posture-rule.js';
import type { ZoneTrackState } from './zone-rule.js';
import { POSTURES } from '../wire/v1.js';

export const ENGINE_STATE_VERSION = 1 as const;

const finite = z.number().finite();
const box = z.tuple([finite, finite, finite, finite]);

const frameRefSchema: z.ZodType<FrameRef> = z.object({ seq: z.number().int().nonnegative(), captureTs: finite, ptsMs: finite.optional() });

const scaleSchema: z.ZodType<ScaleState> = z.object({ height: finite, atMs: finite, measured: z.boolean() });

const fallSampleSchema: z.ZodType<FallSample> = z.object({
  clockMs: finite,
  frame: frameRefSchema,
  boxTop: finite,
  shoulderY: finite.optional(),
  hipY: finite.optional(),
  feetY: finite,
  height: finite,
});

const fallSchema: z.ZodType<FallState> = z.object({
  phase: z.enum(['watching', 'falling', 'down']),
  lineage: z.number().int(),
  history: z.array(fallSampleSchema),
  ref: fallSampleSchema.optional(),
  onset: frameRefSchema.optional(),
  droppedAtMs: finite.optional(),
  lyingSinceMs: finite.optional(),
  scoreSum: finite,
  scoreCount: z.number().int().nonnegative(),
  alerted: z.boolean().optional(),
  alertedTrackId: z.number().int().nonnegative().optional(),
  upSinceMs: finite.optional(),
  upFrame: frameRefSchema.optional(),
  fallFrame: frameRefSchema.optional(),
});

const postureSchema: z.ZodType<PostureState> = z.object({
  current: z.enum(POSTURES).optional(),
  candidate: z.enum(POSTURES).optional(),
  candidateSinceMs: finite.optional(),
  candidateFrame: frameRefSchema.optional(),
});

const handsSchema: z.ZodType<HandsState> = z.object({
  sinceMs: finite.optional(),
  sinceFrame: frameRefSchema.optional(),
  lastUpMs: finite.optional(),
  reported: z.boolean().optional(),
});

const zoneTrackSchema: z.ZodType<ZoneTrackState> = z.object({
  inside: z.boolean(),
  pendingSinceMs: finite.optional(),
  pendingFrame: frameRefSchema.optional(),
  enteredMs: finite.optional(),
  enteredFrame: frameRefSchema.optional(),
  dwellReported: z.boolean().optional(),
});

const lineTrackSchema: z.ZodType<LineTrackState> = z.object({ side: z.union([z.literal(-1), z.literal(1)]), x: finite, y: finite });

export interface TrackMemory {
  id: number;
  /** Engine clock, frame and box of the last observation. */
  lastSeenMs: number;
  lastFrame: FrameRef;
  lastBox: [number, number, number, number];
  scale: ScaleState;
  fall: FallState;
  posture: PostureState;
  hands: HandsState;
  zones: Record<string, ZoneTrackState>;
  lines: Record<string, LineTrackState>;
}

const trackSchema: z.ZodType<TrackMemory> = z.object({
  id: z.number().int().nonnegative(),
  lastSeenMs: finite,
  lastFrame: frameRefSchema,
  lastBox: box,
  scale: scaleSchema,
  fall: fallSchema,
  posture: postureSchema,
  hands: handsSchema,
  zones: z.record(z.string(), zoneTrackSchema),
  lines: z.record(z.string(), lineTrackSchema),
});

export interface LineCounts {
  left_to_right: number;
  right_to_left: number;
}

export interface EngineState {
  v: typeof ENGINE_STATE_VERSION;
  /** Monotonic engine clock (ms of media time, see frame.ts advanceClock). */
  clockMs: number;
  lastTimeMs?: number;
  /** Last processed seq: frames at or below it are ignored (redelivered after a hand-over). */
  lastSeq?: number;
  /** The last processed frame (end-of-stream events are dated by it). */
  lastFrame?: FrameRef;
  tracks: TrackMemory[];
  occupancy: Record<string, number>;
  lineCounts: Record<string, LineCounts>;
}

export const engineStateSchema: z.ZodType<EngineState> = z.object({
  v: z.literal(ENGINE_STATE_VERSION),
  clockMs: finite,
  lastTimeMs: finite.optional(),
  lastSeq: z.number().int().nonnegative().optional(),
  lastFrame: frameRefSchema.optional(),
  tracks: z.array(trackSchema),
  occupancy: z.record(z.string(), z.number().int().nonnegative()),
  lineCounts: z.record(z.string(), z.object({ left_to_right: z.number().int().nonnegative(), right_to_left: z.number().int().nonnegative() })),
});

export function emptyEngineState(): EngineState {
  return { v: ENGINE_STATE_VERSION, clockMs: 0, tracks: [], occupancy: {}, lineCounts: {} };
}
