/**
 * Ultralytics letterbox geometry, bit-for-bit as models/src/posestream_models/preprocess.py computes it, so that a
 * frame scaled by ingest and padded here lands on exactly the pixels the Python reference (and the model's
 * training pipeline) would use. Pure: shared by ingest (fitInside), the engine (padInto) and the decoder.
 */
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
  if (width > size || height > size || width < 1 || height < 1) {
    throw new RangeError(`frame ${width}x${height} does not fit inside ${size}x${size}`);
  }
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
