import { describe, expect, it } from 'vitest';
import { I420_PAD_LUMA, frameBytes, i420Planes, i420ToRgb, rgbToI420 } from '../../../../pipeline/image/i420.js';
import { PAD_VALUE, fitInside, letterboxTransform, padI420Into, padInto, roundHalfEven } from '../../../../pipeline/pose/letterbox.js';

// [w, h, fittedW, fittedH, padLeft, padTop, scale] printed by models/ letterbox_geometry (Python) for these sizes.
const PYTHON_GEOMETRY: Array<[number, number, number, number, number, number, number]> = [
  [1280, 720, 640, 360, 0, 140, 0.5], [1920, 1080, 640, 360, 0, 140, 0.3333333333333333],
  [810, 1080, 480, 640, 80, 0, 0.5925925925925926], [640, 480, 640, 480, 0, 80, 1.0],
  [960, 544, 640, 363, 0, 138, 0.6666666666666666], [500, 375, 640, 480, 0, 80, 1.28],
  [427, 640, 427, 640, 106, 0, 1.0], [1, 1000, 1, 640, 319, 0, 0.64],
  [333, 777, 274, 640, 183, 0, 0.8236808236808236], [639, 641, 638, 640, 1, 0, 0.9984399375975039],
  [100, 50, 640, 320, 0, 160, 6.4], [3000, 2001, 640, 427, 0, 106, 0.21333333333333335],
  [612, 612, 640, 640, 0, 0, 1.0457516339869282], [1023, 767, 640, 480, 0, 80, 0.6256109481915934],
  [853, 480, 640, 360, 0, 140, 0.7502930832356389],
  // Exact halves: Python's round() goes to the even neighbour (426.5 -> 426, 427.5 -> 428).
  [1280, 853, 640, 426, 0, 107, 0.5], [1280, 855, 640, 428, 0, 106, 0.5],
];

describe('letterbox geometry', () => {
  it('rounds halves to even like Python', () => {
    expect([0.5, 1.5, 2.5, 426.5, 427.5, 2.4, 2.6, 106.4, 139.9].map(roundHalfEven)).toEqual([0, 2, 2, 426, 428, 2, 3, 106, 140]);
  });

  it.each(PYTHON_GEOMETRY)('%ix%i matches models/ letterbox_geometry', (w, h, fw, fh, padX, padY, scale) => {
    expect(fitInside(w, h)).toEqual({ width: fw, height: fh });
    expect(letterboxTransform(w, h)).toEqual({ scale, padX, padY, size: 640, sourceWidth: w, sourceHeight: h });
    expect(letterboxTransform(w, h, 640, fw, fh)).toEqual(letterboxTransform(w, h));
  });

  it('uses the actual ratio when someone fitted the frame to another size, and rejects impossible sizes', () => {
    const t = letterboxTransform(1280, 720, 640, 320, 180);
    expect(t.scale).toBe(0.25);
    expect([t.padX, t.padY]).toEqual([160, 230]);
    expect(() => letterboxTransform(1280, 720, 640, 700, 360)).toThrow(/does not fit/);
    expect(() => fitInside(0, 10)).toThrow(/positive/);
  });
});

describe('padInto', () => {
  function frame(width: number, height: number): Uint8Array {
    const data = new Uint8Array(width * height * 3);
    for (let i = 0; i < data.length; i++) data[i] = i % 113; // never 114, so pad and frame are told apart
    return data;
  }

  it('centres a fitted frame on a 114 canvas at an offset, rows intact', () => {
    const size = 8;
    const dst = new Uint8Array(10 + size * size * 3).fill(7);
    const src = frame(5, 3);
    const placed = padInto(dst, 10, src, 5, 3, size);
    expect(placed).toEqual({ padX: 1, padY: 2, width: 5, height: 3, size });
    expect(Array.from(dst.subarray(0, 10))).toEqual(new Array(10).fill(7));
    const canvas = dst.subarray(10);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const inside = x >= 1 && x < 6 && y >= 2 && y < 5;
        for (let c = 0; c < 3; c++) {
          const value = canvas[(y * size + x) * 3 + c];
          expect(value).toBe(inside ? src[((y - 2) * 5 + (x - 1)) * 3 + c] : PAD_VALUE);
        }
      }
    }
  });

  it('full-width frames are one block copy; padded=true leaves the pad alone', () => {
    const size = 6;
    const dst = new Uint8Array(size * size * 3).fill(1);
    const src = frame(6, 4);
    padInto(dst, 0, src, 6, 4, size, true);
    expect(dst[0]).toBe(1); // pad untouched because the caller vouched for it
    expect(Array.from(dst.subarray(18, 18 + src.length))).toEqual(Array.from(src));
    padInto(dst, 0, src, 6, 4, size);
    expect(dst[0]).toBe(PAD_VALUE);
    expect(dst[dst.length - 1]).toBe(PAD_VALUE);
  });

  it('rejects frames that do not fit and short buffers', () => {
    expect(() => padInto(new Uint8Array(300), 0, frame(11, 2), 11, 2, 10)).toThrow(/does not fit/);
    expect(() => padInto(new Uint8Array(300), 0, new Uint8Array(5), 2, 2, 10)).toThrow(/needs 12/);
    expect(() => padInto(new Uint8Array(299), 0, frame(2, 2), 2, 2, 10)).toThrow(/too small/);
  });
});

describe('padI420Into', () => {
  /** An I420 frame whose Y, U and V samples are all distinct from the pad (Y 200, U 50, V 60). */
  function frame(width: number, height: number): Uint8Array {
    const { u, v } = i420Planes(width, height);
    const pixels = new Uint8Array(frameBytes('i420', width, height));
    pixels.fill(200, 0, u).fill(50, u, v).fill(60, v);
    return pixels;
  }

  it('places Y at the letterbox position and chroma at half of it, padded with Y 114 / UV 128', () => {
    const size = 8;
    const canvas = new Uint8Array(4 + frameBytes('i420', size, size)).fill(7);
    // 8x4 fitted: pad 2 rows on top (2 - 0.1 rounds to 2), chroma 1 row.
    expect(padI420Into(canvas, 4, frame(8, 4), 8, 4, size)).toEqual({ padX: 0, padY: 2, width: 8, height: 4, size });
    expect(canvas.subarray(0, 4)).toEqual(new Uint8Array(4).fill(7));
    const y = canvas.subarray(4, 4 + 64);
    expect([...y.subarray(0, 16)]).toEqual(new Array(16).fill(I420_PAD_LUMA));
    expect([...y.subarray(16, 48)]).toEqual(new Array(32).fill(200));
    expect([...y.subarray(48)]).toEqual(new Array(16).fill(I420_PAD_LUMA));
    const u = canvas.subarray(68, 84);
    const v = canvas.subarray(84, 100);
    expect([...u]).toEqual([...new Array(4).fill(128), ...new Array(8).fill(50), ...new Array(4).fill(128)]);
    expect([...v]).toEqual([...new Array(4).fill(128), ...new Array(8).fill(60), ...new Array(4).fill(128)]);
  });

  it('converts to exactly what the RGB path pads and places (a gray frame)', () => {
    const size = 16;
    const gray = new Uint8Array(10 * 7 * 3).fill(PAD_VALUE);
    const canvas = new Uint8Array(frameBytes('i420', size, size));
    padI420Into(canvas, 0, rgbToI420(gray, 10, 7), 10, 7, size);
    expect(new Set(i420ToRgb(canvas, size, size))).toEqual(new Set([PAD_VALUE]));
  });

  it('handles odd sizes and odd pads (chroma clipped at the canvas edge) and refuses what does not fit', () => {
    const size = 8;
    const canvas = new Uint8Array(frameBytes('i420', size, size));
    // 7 wide: padX = round(0.5 - 0.1) = 0; 5 high: padY = round(1.5 - 0.1) = 1 (odd): chroma starts at row 0.
    expect(padI420Into(canvas, 0, frame(7, 5), 7, 5, size)).toMatchObject({ padX: 0, padY: 1 });
    expect(canvas[0]).toBe(I420_PAD_LUMA);
    expect(canvas[8]).toBe(200);
    expect(canvas[64]).toBe(50);
    expect(() => padI420Into(canvas, 0, frame(9, 4), 9, 4, size)).toThrow(/does not fit/);
    expect(() => padI420Into(canvas, 0, new Uint8Array(3), 4, 4, size)).toThrow(/needs 24/);
    expect(() => padI420Into(new Uint8Array(10), 0, frame(4, 4), 4, 4, size)).toThrow(/canvas buffer too small/);
  });
});
