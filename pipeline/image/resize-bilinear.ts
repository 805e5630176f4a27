/**
 * Bilinear RGB24 resize that reproduces OpenCV's cv2.resize(INTER_LINEAR) on uint8 images, which is what
 * models/ (and Ultralytics) use to fit images into the model input. sharp/libvips cannot stand in: its
 * reducers low-pass filter when shrinking, OpenCV samples 2x2 pixels. Emulated: half-pixel centres, float32
 * offsets, 11-bit fixed-point weights, edge clamping, and the rounding of OpenCV's SIMD vertical pass
 * ((b0*(S0>>4))>>16 + (b1*(S1>>4))>>16 + 2) >> 2. For exact 2x shrinks OpenCV switches to INTER_AREA, whose
 * 2x2 mean these weights reproduce exactly. Pure (no Node APIs); used for image files, not on the stream path
 * (ingest lets GStreamer scale video frames).
 */
const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS;

interface Taps {
  /** First source index (the second is index + 1); may be -1 or source - 1 for rows, clamped when read. */
  index: Int32Array;
  w0: Int32Array;
  w1: Int32Array;
}

/** Saturating float -> int16 with round-half-even, as saturate_cast<short>(float) does via cvRound. */
function toShort(value: number): number {
  const r = Math.round(value);
  const rounded = Math.abs(value % 1) === 0.5 ? 2 * Math.round(value / 2) : r;
  return Math.max(-32768, Math.min(32767, rounded));
}

/**
 * OpenCV clamps the weights at the borders for columns only; for rows it keeps the fractional weight and
 * clamps the row index instead (same value, different rounding), so `clampWeights` is false for rows.
 */
function taps(source: number, target: number, clampWeights: boolean): Taps {
  const scale = 1 / (target / source);
  const index = new Int32Array(target);
  const w0 = new Int32Array(target);
  const w1 = new Int32Array(target);
  for (let d = 0; d < target; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (clampWeights && s < 0) {
      f = 0;
      s = 0;
    }
    if (clampWeights && s >= source - 1) {
      f = 0;
      s = source - 1;
    }
    index[d] = s;
    w0[d] = toShort(Math.fround(1 - f) * COEF_SCALE);
    w1[d] = toShort(f * COEF_SCALE);
  }
  return { index, w0, w1 };
}

const clamp16 = (v: number): number => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);

/** Resizes an interleaved RGB24 image to dstWidth x dstHeight. Returns the input itself when the size is unchanged. */
export function resizeBilinearRgb(src: Uint8Array, width: number, height: number, dstWidth: number, dstHeight: number): Uint8Array {
  if (src.length < width * height * 3) {
    throw new RangeError(`RGB buffer holds ${src.length} bytes, ${width}x${height} needs ${width * height * 3}`);
  }
  if (dstWidth === width && dstHeight === height) return src;
  const xs = taps(width, dstWidth, true);
  const ys = taps(height, dstHeight, false);
  const rowLength = dstWidth * 3;
  // Horizontal pass results for the two source rows the current output row needs (cached across output rows).
  const rows = [new Int32Array(rowLength), new Int32Array(rowLength)];
  const rowOf = [-1, -1];
  const horizontal = (sy: number, out: Int32Array): void => {
    const base = sy * width * 3;
    for (let dx = 0; dx < dstWidth; dx++) {
      const sx = xs.index[dx]!;
      const next = Math.min(sx + 1, width - 1);
      const a0 = xs.w0[dx]!;
      const a1 = xs.w1[dx]!;
      const p = base + sx * 3;
      const q = base + next * 3;
      const o = dx * 3;
      out[o] = src[p]! * a0 + src[q]! * a1;
      out[o + 1] = src[p + 1]! * a0 + src[q + 1]! * a1;
      out[o + 2] = src[p + 2]! * a0 + src[q + 2]! * a1;
    }
  };
  const row = (sy: number): Int32Array => {
    const hit = rowOf.indexOf(sy);
    if (hit >= 0) return rows[hit]!;
    // Replace the row not needed by the current pair (the older one).
    const slot = rowOf[0]! < rowOf[1]! ? 0 : 1;
    horizontal(sy, rows[slot]!);
    rowOf[slot] = sy;
    return rows[slot]!;
  };
  const dst = new Uint8Array(dstWidth * dstHeight * 3);
  for (let dy = 0; dy < dstHeight; dy++) {
    const sy = ys.index[dy]!;
    const b0 = ys.w0[dy]!;
    const b1 = ys.w1[dy]!;
    const r0 = row(Math.min(Math.max(sy, 0), height - 1));
    const r1 = row(Math.min(Math.max(sy + 1, 0), height - 1));
    const o = dy * rowLength;
    for (let x = 0; x < rowLength; x++) {
      const v = clamp16(((b0 * clamp16(r0[x]! >> 4)) >> 16) + ((b1 * clamp16(r1[x]! >> 4)) >> 16));
      const u = (v + 2) >> 2;
      dst[o + x] = u < 0 ? 0 : u > 255 ? 255 : u;
    }
  }
  return dst;
}
