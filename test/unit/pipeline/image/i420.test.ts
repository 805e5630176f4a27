import { describe, expect, it } from 'vitest';
import { I420_PAD_CHROMA, I420_PAD_LUMA, frameBytes, frameFormatOf, i420Planes, i420ToRgb, rgbPixelsOf, rgbToI420 } from '../../../../pipeline/image/i420.js';
import { PAD_VALUE } from '../../../../pipeline/pose/letterbox.js';

/** A width x height RGB24 image of one colour. */
function solid(width: number, height: number, rgb: [number, number, number]): Uint8Array {
  const pixels = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) pixels.set(rgb, i * 3);
  return pixels;
}

describe('I420 <-> RGB (BT.601 video range, OpenVINO I420toRGB)', () => {
  it('sizes frames by their planes, odd sizes rounding chroma up', () => {
    expect(frameBytes('rgb24', 640, 360)).toBe(691_200);
    expect(frameBytes('i420', 640, 360)).toBe(345_600);
    expect(frameBytes('i420', 3, 3)).toBe(9 + 2 * 4);
    expect(i420Planes(3, 3)).toEqual({ u: 9, v: 13, chromaWidth: 2, chromaHeight: 2 });
    expect([frameFormatOf('i420'), frameFormatOf('rgb')]).toEqual(['i420', 'rgb24']);
  });

  it('maps known colours to the BT.601 video-range codes and back', () => {
    // Reference codes of ITU-R BT.601 (8 bit, 16-235 / 16-240): black, white, pure red, the letterbox gray.
    const cases: Array<[[number, number, number], [number, number, number]]> = [
      [[0, 0, 0], [16, 128, 128]],
      [[255, 255, 255], [235, 128, 128]],
      [[255, 0, 0], [81, 90, 240]],
      [[PAD_VALUE, PAD_VALUE, PAD_VALUE], [I420_PAD_LUMA, I420_PAD_CHROMA, I420_PAD_CHROMA]],
    ];
    for (const [rgb, yuv] of cases) {
      const i420 = rgbToI420(solid(4, 2, rgb), 4, 2);
      const { u, v } = i420Planes(4, 2);
      expect([i420[0], i420[u], i420[v]], `RGB ${rgb.join(',')}`).toEqual(yuv);
      const back = i420ToRgb(i420, 4, 2);
      for (let c = 0; c < 3; c++) expect(Math.abs(back[c]! - rgb[c]!), `RGB ${rgb.join(',')} channel ${c}`).toBeLessThanOrEqual(2);
    }
  });

  it('keeps luma per pixel and averages chroma over each 2x2 block, also at an odd edge', () => {
    // 3x1: a white pixel, a black one, and a red one alone in the last (half-empty) chroma block.
    const rgb = new Uint8Array([255, 255, 255, 0, 0, 0, 255, 0, 0]);
    const i420 = rgbToI420(rgb, 3, 1);
    expect([...i420.subarray(0, 3)]).toEqual([235, 16, 81]);
    expect([...i420.subarray(3)]).toEqual([128, 90, 128, 240]);
    const back = i420ToRgb(i420, 3, 1);
    expect([...back.subarray(0, 6)]).toEqual([255, 255, 255, 0, 0, 0]);
    expect(back[6]).toBeGreaterThanOrEqual(253);
  });

  it('converts only I420 for encoding, and refuses a buffer too small for its size', () => {
    const rgb = solid(2, 2, [10, 20, 30]);
    expect(rgbPixelsOf('rgb24', rgb, 2, 2)).toBe(rgb);
    expect(rgbPixelsOf('i420', rgbToI420(rgb, 2, 2), 2, 2).length).toBe(12);
    expect(() => i420ToRgb(new Uint8Array(5), 2, 2)).toThrow(/2x2 i420 needs 6 bytes, got 5/);
    expect(() => rgbToI420(rgb, 0, 2)).toThrow(/positive/);
  });
});
