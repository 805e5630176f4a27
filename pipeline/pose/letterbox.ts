/**
 * Ultralytics letterbox geometry, bit-for-bit as models/src/posestream_models/preprocess.py computes it, so that a
 * frame scaled by ingest and padded here lands on exactly the pixels the Python reference (and the model's
 * training pipeline) would use. Pure: shared by ingest (fitInside), the engine (padInto, padI420Into) and the decoder.
 */
import { I420_PAD_CHROMA, I420_PAD_LUMA, frameBytes, i420Planes } from '../image/i420.js';

export const MODEL_INPUT_SIZE = 640;
export const PAD_VALUE = 114;

export interface LetterboxTransform {
  /** input = source * scale + pad */
  scale: number;
  padX: number;
  padY: number;
  size: number;
  sourceWidth: number;
  sourceHeight: number;
}

/** Where padInto put the frame inside the canvas. */
export interface PadPlacement {
  padX: number;
  padY: number;
  width: number;
  height: number;
  size: number;
}

/**
 * Python's round(): halves go to the even neighbour. Math.round would send 426.5 to 427 where Python picks 426,
 * and the fitted size decides every pixel position after it.
 */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function checkSize(width: number, height: number): void {
  if (!(width > 0 && height > 0) || !Number.isFinite(width) || !Number.isFinite(height)) {
    throw new RangeError(`image size must be positive, got ${width}x${height}`);
  }
}

/** Same expression and operand order as Python (min(size / h, size / w)) so the double is identical. */
function fitScale(sourceWidth: number, sourceHeight: number, size: number): number {
  return Math.min(size / sourceHeight, size / sourceWidth);
}

/** Size a source is scaled to so it fits inside size x size, aspect kept (what ingest asks GStreamer for). */
export function fitInside(sourceWidth: number, sourceHeight: number, size = MODEL_INPUT_SIZE): { width: number; height: number } {
  checkSize(sourceWidth, sourceHeight);
  const scale = fitScale(sourceWidth, sourceHeight, size);
  return {
    width: Math.min(size, Math.max(1, roundHalfEven(sourceWidth * scale))),
    height: Math.min(size, Math.max(1, roundHalfEven(sourceHeight * scale))),
  };
}

/** Python's int(round(pad - 0.1)): the extra pixel of an odd padding goes to the right/bottom. */
function leadingPad(size: number, fitted: number): number {
  return roundHalfEven((size - fitted) / 2 - 0.1);
}

/**
 * Ultralytics letterbox geometry: fit inside size x size keeping aspect, centred padding (value 114).
 * fittedWidth/Height: the size the frame was actually scaled to, when someone else scaled it; the scale is the
 * canonical one when that matches fitInside (always, for ingest), else the smaller of the two actual ratios.
 */
export function letterboxTransform(
  sourceWidth: number,
  sourceHeight: number,
  size = MODEL_INPUT_SIZE,
  fittedWidth?: number,
  fittedHeight?: number,
): LetterboxTransform {
  const canonical = fitInside(sourceWidth, sourceHeight, size);
  const width = fittedWidth ?? canonical.width;
  const height = fittedHeight ?? canonical.height;
  if (width > size || height > size || width < 1 || height < 1) {
    throw new RangeError(`fitted frame ${width}x${height} does not fit inside ${size}x${size}`);
  }
  const scale =
    width === canonical.width && height === canonical.height
      ? fitScale(sourceWidth, sourceHeight, size)
      : Math.min(width / sourceWidth, height / sourceHeight);
  return { scale, padX: leadingPad(size, width), padY: leadingPad(size, height), size, sourceWidth, sourceHeight };
}

function assertFitsInside(width: number, height: number, size: number): void {
  if (width > size || height > size || width < 1 || height < 1) {
    throw new RangeError(`frame ${width}x${height} does not fit inside ${size}x${size}`);
  }
}

/**
 * Copy an already-fitted RGB24 frame (width x height, each <= size) into a size x size RGB canvas at dstOffset,
 * padded with 114. With `padded` true the caller vouches that the canvas pad already holds 114 for this exact
 * placement (a pooled buffer reused for same-sized frames), so only the frame rows are written.
 */
export function padInto(
  dst: Uint8Array,
  dstOffset: number,
  src: Uint8Array,
  width: number,
  height: number,
  size = MODEL_INPUT_SIZE,
  padded = false,
): PadPlacement {
  assertFitsInside(width, height, size);
  const rowBytes = width * 3;
  if (src.length < rowBytes * height) {
    throw new RangeError(`frame buffer holds ${src.length} bytes, ${width}x${height} RGB24 needs ${rowBytes * height}`);
  }
  const canvasRow = size * 3;
  if (dst.length < dstOffset + canvasRow * size) {
    throw new RangeError(`canvas buffer too small for ${size}x${size} RGB24 at offset ${dstOffset}`);
  }
  const padX = leadingPad(size, width);
  const padY = leadingPad(size, height);
  const top = dstOffset + padY * canvasRow;
  const bottom = top + height * canvasRow;
  if (!padded) {
    dst.fill(PAD_VALUE, dstOffset, top);
    dst.fill(PAD_VALUE, bottom, dstOffset + size * canvasRow);
  }
  if (width === size) {
    dst.set(src.subarray(0, rowBytes * height), top);
    return { padX, padY, width, height, size };
  }
  const left = padX * 3;
  const right = left + rowBytes;
  for (let y = 0; y < height; y++) {
    const row = top + y * canvasRow;
    if (!padded) {
      dst.fill(PAD_VALUE, row, row + left);
      dst.fill(PAD_VALUE, row + right, row + canvasRow);
    }
    dst.set(src.subarray(y * rowBytes, (y + 1) * rowBytes), row + left);
  }
  return { padX, padY, width, height, size };
}

/**
 * padInto for I420 frames: an already-fitted I420 frame (width x height, packed planes, see pipeline/image/i420.ts)
 * into a size x size I420 canvas (Y plane, then U and V at size/2) at dstOffset, padded with Y 114 / U V 128, which
 * the model's BT.601 conversion turns into the RGB path's 114 gray. Same geometry as padInto for the luma; chroma
 * starts at floor(pad / 2), so an odd pad puts the chroma half a pixel off (no resampling; an odd pad happens for
 * odd fitted sizes only, never for 16:9 or 4:3 sources at 640). `padded`: as padInto.
 */
export function padI420Into(
  dst: Uint8Array,
  dstOffset: number,
  src: Uint8Array,
  width: number,
  height: number,
  size = MODEL_INPUT_SIZE,
  padded = false,
): PadPlacement {
  assertFitsInside(width, height, size);
  if (size % 2 !== 0) throw new RangeError(`an I420 canvas needs an even size, got ${size}`);
  const { u: srcU, v: srcV, chromaWidth, chromaHeight } = i420Planes(width, height);
  if (src.length < frameBytes('i420', width, height)) {
    throw new RangeError(`frame buffer holds ${src.length} bytes, ${width}x${height} I420 needs ${frameBytes('i420', width, height)}`);
  }
  const canvasBytes = frameBytes('i420', size, size);
  if (dst.length < dstOffset + canvasBytes) throw new RangeError(`canvas buffer too small for ${size}x${size} I420 at offset ${dstOffset}`);
  const padX = leadingPad(size, width);
  const padY = leadingPad(size, height);
  const half = size / 2;
  const canvasU = dstOffset + size * size;
  const canvasV = canvasU + half * half;
  if (!padded) {
    dst.fill(I420_PAD_LUMA, dstOffset, canvasU);
    dst.fill(I420_PAD_CHROMA, canvasU, dstOffset + canvasBytes);
  }
  copyPlane(dst, dstOffset, size, src, 0, width, width, height, padX, padY);
  const chromaX = padX >> 1;
  const chromaY = padY >> 1;
  // An odd fitted size at an odd pad could reach one chroma sample past the canvas edge: clip it.
  const copyWidth = Math.min(chromaWidth, half - chromaX);
  const copyHeight = Math.min(chromaHeight, half - chromaY);
  copyPlane(dst, canvasU, half, src, srcU, chromaWidth, copyWidth, copyHeight, chromaX, chromaY);
  copyPlane(dst, canvasV, half, src, srcV, chromaWidth, copyWidth, copyHeight, chromaX, chromaY);
  return { padX, padY, width, height, size };
}

/** Copies `width` x `height` samples of a packed plane (rows of `srcStride`) into a square plane at (x, y). */
function copyPlane(dst: Uint8Array, dstStart: number, dstStride: number, src: Uint8Array, srcStart: number, srcStride: number, width: number, height: number, x: number, y: number): void {
  for (let row = 0; row < height; row++) {
    const from = srcStart + row * srcStride;
    dst.set(src.subarray(from, from + width), dstStart + (y + row) * dstStride + x);
  }
}
