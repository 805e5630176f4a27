import sharp from 'sharp';
import { rgbPixelsOf } from '../pipeline/image/i420.js';
import { drawPoses } from '../pipeline/pose/draw.js';
import { encodeFrameMessage, WIRE_VERSION, type FrameMeta, type PoseResult } from '../pipeline/wire/v1.js';

/**
 * Turns one preview entry (a result and the exact frame it was computed on) into the JPEG variants somebody
 * watches: plain (the dashboard overlays the result itself) and/or annotated (skeletons drawn into the RGB pixels,
 * then encoded: drawing into the buffer costs well under a millisecond where an SVG overlay in sharp costs ~18 ms).
 * Each variant is encoded once and its bytes are shared by all of its subscribers.
 */

/**
 * libvips' operation cache keeps recent inputs and outputs for reuse; every preview is a new buffer, so it only
 * holds frames in memory (up to 50 MB). The gateway turns it off at start.
 */
export function disableEncoderCache(): void {
  sharp.cache(false);
}

export interface EncodedFrame {
  jpeg: Buffer;
  /** The WebSocket binary message: header + JPEG. */
  message: Uint8Array;
}

export interface AnnotatedPreview {
  plain?: EncodedFrame;
  annotated?: EncodedFrame;
}

async function encodeJpeg(pixels: Uint8Array, meta: FrameMeta, quality: number): Promise<Buffer> {
  return sharp(pixels, { raw: { width: meta.width, height: meta.height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}

function frameMessage(meta: FrameMeta, annotated: boolean, jpeg: Buffer): EncodedFrame {
  const header = {
    v: WIRE_VERSION,
    type: 'frame' as const,
    streamId: meta.streamId,
    seq: meta.seq,
    captureTs: meta.captureTs,
    width: meta.width,
    height: meta.height,
    annotated,
  };
  return { jpeg, message: encodeFrameMessage(header, jpeg) };
}

/**
 * `pixels` is owned by the caller and is drawn on in place when the annotated variant is wanted (after the plain
 * variant, if any, has been encoded from it), so no frame copy is made. An I420 frame is converted to RGB here, once
 * for both variants: only frames somebody watches get there (PreviewFollower renders on demand).
 */
export async function renderPreview(
  preview: { result: PoseResult; meta: FrameMeta; pixels: Buffer },
  wanted: { plain: boolean; annotated: boolean },
  quality: number,
): Promise<AnnotatedPreview> {
  const { result, meta } = preview;
  const pixels = rgbPixelsOf(meta.format, preview.pixels, meta.width, meta.height);
  const out: AnnotatedPreview = {};
  if (wanted.plain) out.plain = frameMessage(meta, false, await encodeJpeg(pixels, meta, quality));
  if (wanted.annotated) {
    drawPoses(pixels, meta.width, meta.height, result.persons, result.sourceWidth, result.sourceHeight);
    out.annotated = frameMessage(meta, true, await encodeJpeg(pixels, meta, quality));
  }
  return out;
}
