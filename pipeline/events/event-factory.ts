/**
 * Builds wire events (pipeline/wire/v1.ts poseEventSchema) from rule outcomes, with the deterministic id the
 * schema prescribes: the same condition re-evaluated after a worker hand-over gets the same id. Pure.
 */
import { WIRE_VERSION, type PoseEvent, type PoseEventType } from '../wire/v1.js';
import type { FrameRef } from './frame.js';

export interface EventDraft {
  type: PoseEventType;
  trackId?: number;
  /** Where the condition started (event seq/captureTs/ptsMs). */
  start: FrameRef;
  /** The decisive frame (atSeq/atCaptureTs). */
  at: FrameRef;
  confidence: number;
  zone?: string;
  line?: string;
  direction?: 'left_to_right' | 'right_to_left';
  attributes?: Record<string, string | number | boolean | null>;
}

/** `<streamId>:<type>:<trackId|->:<start seq>[:<zone|line>]` */
export function eventId(streamId: string, draft: Pick<EventDraft, 'type' | 'trackId' | 'start' | 'zone' | 'line'>): string {
  const place = draft.zone ?? draft.line;
  return `${streamId}:${draft.type}:${draft.trackId ?? '-'}:${draft.start.seq}${place === undefined ? '' : `:${place}`}`;
}

export function buildEvent(streamId: string, draft: EventDraft, options: { snapshot: boolean; publishedTs: number }): PoseEvent {
  const event: PoseEvent = {
    v: WIRE_VERSION,
    kind: 'event',
    id: eventId(streamId, draft),
    streamId,
    type: draft.type,
    seq: draft.start.seq,
    captureTs: draft.start.captureTs,
    atSeq: draft.at.seq,
    atCaptureTs: draft.at.captureTs,
    confidence: Math.max(0, Math.min(1, draft.confidence)),
    attributes: draft.attributes ?? {},
    snapshot: options.snapshot,
    publishedTs: options.publishedTs,
  };
  if (draft.trackId !== undefined) event.trackId = draft.trackId;
  if (draft.start.ptsMs !== undefined) event.ptsMs = draft.start.ptsMs;
  if (draft.at.ptsMs !== undefined) event.atPtsMs = draft.at.ptsMs;
  if (draft.zone !== undefined) event.zone = draft.zone;
  if (draft.line !== undefined) event.line = draft.line;
  if (draft.direction !== undefined) event.direction = draft.direction;
  return event;
}
