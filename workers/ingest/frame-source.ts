/**
 * What StreamRunner needs from a video source: frames that each carry their own geometry, then the end of the
 * stream or why it failed. Production uses DecoderFrameSource (a posestream-decode child process); the unit tests
 * of StreamRunner use scripted fakes.
 */

import type { FrameFormat } from '../../pipeline/image/i420.js';

export interface FrameGeometry {
  /** The decoded frame before scaling: keypoints are reported in these pixels. */
  sourceWidth: number;
  sourceHeight: number;
  /** The pixels: the source scaled to fit inside the model input, aspect kept. */
  width: number;
  height: number;
}

export interface SourceFrame extends FrameGeometry {
  kind: 'frame';
  /** Rows packed, in `format` (pipeline/image/i420.ts). */
  pixels: Buffer;
  /** Default rgb24 (width x height x 3 bytes). */
  format?: FrameFormat;
  /** Date.now() when the decoded frame reached ingest. */
  arrivedAt: number;
  /** Media time of the frame, ms (stream time; keeps increasing across loops of a file); undefined if unknown. */
  ptsMs?: number;
  /** The same media time in exact ns: where a restarted source resumes (the ingest record's position). */
  ptsNs?: number;
  /** Frames dropped before this one since the previous frame: by the fps cap, and because ingest was behind. */
  capDrops: number;
  behindDrops: number;
  /** Frames dropped before decoding since the previous frame: non-reference frames skipped under an fps cap. */
  skipDrops?: number;
}

export type SourceEvent = SourceFrame | { kind: 'eos' } | { kind: 'error'; message: string } | { kind: 'closed' };

/** Where a (re)opened source starts: after the last frame Redis accepted (finite sources: files, downloads). */
export interface SourceStart {
  /** Deliver only frames whose media time is after this (ns). */
  afterPtsNs?: number;
}

export interface FrameSource {
  /** Files and downloads end at EOS; for cameras (RTSP, V4L2, test patterns) an EOS is a failure to recover from. */
  readonly finite: boolean;
  /**
   * Starts (or restarts, after close()) the source. Rejects when it cannot even start (a readable reason); what
   * GStreamer finds wrong with the source arrives as an 'error' event from next().
   */
  open(from?: SourceStart): Promise<void>;
  /** The next frame, or why there is none. Never hangs past close(). A looping file never reports 'eos'. */
  next(): Promise<SourceEvent>;
  /** Stops whatever runs; a pending next() resolves with 'closed'. */
  close(): void;
}
