/**
 * Frame pixel formats and the one colour conversion between them. Frames travel through Redis as I420 (a full Y
 * plane, then U and V at half resolution, ceil(w/2) x ceil(h/2), rows packed) or RGB24; the model converts I420 to
 * RGB inside its graph (OpenVINO's I420toRGB), so RGB is made here only for what people look at (previews, event
 * snapshots) and for feeding evaluation images through the I420 path.
 *
 * The matrix is BT.601 in video ("limited", 16-235) range, because that is what OpenVINO's I420toRGB computes:
 *   R = 1.164 (Y-16) + 1.596 (V-128)   G = 1.164 (Y-16) - 0.813 (V-128) - 0.391 (U-128)   B = 1.164 (Y-16) + 2.018 (U-128)
 * The decoder keeps a video-range camera's own matrix (HD video is usually BT.709, read here as BT.601: a slight colour
 * shift, no measurable accuracy change, and a third less decoder CPU than converting; frame-convert.c) and converts
 * full-range or RGB sources to BT.601. Pure: no Node APIs.
 */

export const FRAME_FORMATS = ['rgb24', 'i420'] as const;
export type FrameFormat = (typeof FRAME_FORMATS)[number];

/** `model.inputFormat` values and the frame format each one means. */
export const MODEL_INPUT_FORMATS = ['i420', 'rgb'] as const;
export type ModelInputFormat = (typeof MODEL_INPUT_FORMATS)[number];
export function frameFormatOf(inputFormat: ModelInputFormat): FrameFormat {
  return inputFormat === 'rgb' ? 'rgb24' : 'i420';
}

/** Y value that the BT.601 video-range conversion turns into RGB 114 gray (the letterbox pad): 16 + 219 * 114/255. */
export const I420_PAD_LUMA = 114;
/** Neutral chroma. */
export const I420_PAD_CHROMA = 128;

/** Pixel bytes of a frame, rows packed: RGB 3 per pixel; I420 a full Y plane and two ceil(w/2) x ceil(h/2) planes. */
export function frameBytes(format: FrameFormat, width: number, height: number): number {
  if (format === 'rgb24') return width * height * 3;
  return width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
}

/** Where each plane of a packed I420 frame starts, and its chroma size. */
export function i420Planes(width: number, height: number): { u: number; v: number; chromaWidth: number; chromaHeight: number } {
  const chromaWidth = Math.ceil(width / 2);
  const chromaHeight = Math.ceil(height / 2);
  const u = width * height;
  return { u, v: u + chromaWidth * chromaHeight, chromaWidth, chromaHeight };
}

function checkFrame(what: string, format: FrameFormat, pixels: Uint8Array, width: number, height: number): void {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`${what}: image size must be positive integers, got ${width}x${height}`);
  }
  const expected = frameBytes(format, width, height);
  if (pixels.length < expected) throw new RangeError(`${what}: ${width}x${height} ${format} needs ${expected} bytes, got ${pixels.length}`);
}

const clampByte = (value: number): number => (value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value));

/** I420 (BT.601 video range) -> RGB24, as OpenVINO's I420toRGB computes it; each chroma sample covers a 2x2 block. */
export function i420ToRgb(pixels: Uint8Array, width: number, height: number): Uint8Array {
  checkFrame('i420ToRgb', 'i420', pixels, width, height);
  const { u: uStart, v: vStart, chromaWidth } = i420Planes(width, height);
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const chromaRow = (y >> 1) * chromaWidth;
    for (let x = 0; x < width; x++) {
      const luma = 1.164 * (pixels[y * width + x]! - 16);
      const chroma = chromaRow + (x >> 1);
      const u = pixels[uStart + chroma]! - 128;
      const v = pixels[vStart + chroma]! - 128;
      const out = (y * width + x) * 3;
      rgb[out] = clampByte(luma + 1.596 * v);
      rgb[out + 1] = clampByte(luma - 0.813 * v - 0.391 * u);
      rgb[out + 2] = clampByte(luma + 2.018 * u);
    }
  }
  return rgb;
}

/**
 * RGB24 -> I420 in BT.601 video range (the inverse of i420ToRgb, the matrix GStreamer uses for `bt601`); each
 * chroma sample is the mean of its 2x2 block (of the pixels that exist, at an odd edge).
 */
export function rgbToI420(pixels: Uint8Array, width: number, height: number): Uint8Array {
  checkFrame('rgbToI420', 'rgb24', pixels, width, height);
  const { u: uStart, v: vStart, chromaWidth, chromaHeight } = i420Planes(width, height);
  const out = new Uint8Array(frameBytes('i420', width, height));
  for (let i = 0; i < width * height; i++) {
    const r = pixels[i * 3]!, g = pixels[i * 3 + 1]!, b = pixels[i * 3 + 2]!;
    out[i] = clampByte(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255);
  }
  for (let cy = 0; cy < chromaHeight; cy++) {
    for (let cx = 0; cx < chromaWidth; cx++) {
      let r = 0, g = 0, b = 0, n = 0;
      for (let y = cy * 2; y < Math.min(height, cy * 2 + 2); y++) {
        for (let x = cx * 2; x < Math.min(width, cx * 2 + 2); x++) {
          const at = (y * width + x) * 3;
          r += pixels[at]!;
          g += pixels[at + 1]!;
          b += pixels[at + 2]!;
          n++;
        }
      }
      r /= n;
      g /= n;
      b /= n;
      out[uStart + cy * chromaWidth + cx] = clampByte(128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255);
      out[vStart + cy * chromaWidth + cx] = clampByte(128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255);
    }
  }
  return out;
}

/** The frame as RGB24 for encoding (JPEG previews, snapshots): I420 is converted into a new buffer, RGB returned as is. */
export function rgbPixelsOf(format: FrameFormat, pixels: Uint8Array, width: number, height: number): Uint8Array {
  return format === 'i420' ? i420ToRgb(pixels, width, height) : pixels;
}
