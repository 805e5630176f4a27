/**
 * Image files -> fitted RGB24 frames for the engine (`posestream infer`/`eval`), pixel-identical to what models/
 * (Python, cv2.imread + cv2.resize) feeds the model: sharp/libvips decodes with libjpeg-turbo like OpenCV, the
 * EXIF orientation is applied as cv2.imread does, embedded ICC profiles are ignored as OpenCV ignores them
 * (bus.jpg carries one: applying it changes 63% of the bytes), and fitting uses the OpenCV-exact bilinear resize.
 * Node-only (sharp).
 */
import sharp from 'sharp';
import { PosestreamError } from '../errors.js';
import { MODEL_INPUT_SIZE, fitInside } from '../pose/letterbox.js';
import { resizeBilinearRgb } from './resize-bilinear.js';

export interface RgbImage {
  pixels: Uint8Array;
  width: number;
  height: number;
}

export interface FittedImage extends RgbImage {
  sourceWidth: number;
  sourceHeight: number;
}

/** Full-size RGB24 of an image file; PS_IMAGE_UNREADABLE naming the file for anything sharp cannot decode. */
export async function readRgbImage(file: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(file, { failOn: 'error', ignoreIcc: true }).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected RGB`);
    return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    throw new PosestreamError('PS_IMAGE_UNREADABLE', `cannot read image ${file}: ${reason}`, { cause: error });
  }
}

/** The image scaled to fit inside size x size (aspect kept, Ultralytics rounding), ready for padInto. */
export function fitImage(image: RgbImage, size = MODEL_INPUT_SIZE): FittedImage {
  const { width, height } = fitInside(image.width, image.height, size);
  return {
    pixels: resizeBilinearRgb(image.pixels, image.width, image.height, width, height),
    width,
    height,
    sourceWidth: image.width,
    sourceHeight: image.height,
  };
}

export async function readFittedImage(file: string, size = MODEL_INPUT_SIZE): Promise<FittedImage> {
  return fitImage(await readRgbImage(file), size);
}

/** Encodes RGB24 to a file; the format follows the extension (.jpg, .png, .webp). */
export async function writeRgbImage(file: string, image: RgbImage, quality = 90): Promise<void> {
  const pipeline = sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 3 } });
  const lower = file.toLowerCase();
  const encoded = lower.endsWith('.png') ? pipeline.png() : lower.endsWith('.webp') ? pipeline.webp({ quality }) : pipeline.jpeg({ quality });
  try {
    await encoded.toFile(file);
  } catch (error) {
    throw new PosestreamError('PS_IMAGE_WRITE_FAILED', `cannot write image ${file}: ${(error as Error).message}`, { cause: error });
  }
}
