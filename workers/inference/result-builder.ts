import { WIRE_VERSION, type EndOfStream, type FrameEnd, type FrameMeta, type Person, type PoseResult } from '../../pipeline/wire/v1.js';

/** Per-frame stage times the worker measured; decode comes from the frame's metadata. */
export interface WorkerTimings {
  /** When the batch holding the frame started inference (ms epoch). */
  inferStartTs: number;
  inferMs: number;
  postMs: number;
}

export function buildPoseResult(meta: FrameMeta, persons: Person[], timings: WorkerTimings, worker: string, now: number): PoseResult {
  return {
    v: WIRE_VERSION,
    kind: 'pose',
    streamId: meta.streamId,
    seq: meta.seq,
    captureTs: meta.captureTs,
    sourceWidth: meta.sourceWidth,
    sourceHeight: meta.sourceHeight,
    ...(meta.ptsMs === undefined ? {} : { ptsMs: meta.ptsMs }),
    persons,
    timings: {
      decodeMs: meta.decodeMs,
      // Clocks of two machines meet here; a small negative skew is reported as 0 rather than as a negative wait.
      queueMs: Math.max(0, timings.inferStartTs - meta.publishTs),
      inferMs: timings.inferMs,
      postMs: timings.postMs,
    },
    worker,
    publishedTs: now,
  };
}

export function buildEndOfStream(end: FrameEnd, now: number): EndOfStream {
  return {
    v: WIRE_VERSION,
    kind: 'eos',
    streamId: end.streamId,
    lastSeq: end.lastSeq,
    reason: end.reason,
    ...(end.message === undefined ? {} : { message: end.message }),
    publishedTs: now,
  };
}

/**
 * Last published position per stream: a frame at or before it (same or older capture) is a redelivery of something
 * already published (a lossless duplicate) or a live frame overtaken by newer ones, so it is acknowledged without
 * a result. A sequence that restarts (stream restarted: seq 0 again, but captured later) is accepted.
 */
export class SeqGuard {
  private last = new Map<string, { seq: number; captureTs: number }>();

  isBehind(meta: Pick<FrameMeta, 'streamId' | 'seq' | 'captureTs'>): boolean {
    const last = this.last.get(meta.streamId);
    return last !== undefined && meta.seq <= last.seq && meta.captureTs <= last.captureTs;
  }

  advance(meta: Pick<FrameMeta, 'streamId' | 'seq' | 'captureTs'>): void {
    this.last.set(meta.streamId, { seq: meta.seq, captureTs: meta.captureTs });
  }

  /** After an end-of-stream the next frames of the id belong to a new run of the stream. */
  reset(streamId: string): void {
    this.last.delete(streamId);
  }

  seed(streamId: string, position: { seq: number; captureTs: number } | undefined): void {
    if (position) this.last.set(streamId, position);
    else this.last.delete(streamId);
  }
}
