import { describe, expect, it } from 'vitest';
import { resizeBilinearRgb } from '../../../../pipeline/image/resize-bilinear.js';

// Inputs and the outputs printed by OpenCV 4.14 cv2.resize(..., INTER_LINEAR) for them (the models/ resize).
const UP_SRC = [0, 37, 74, 111, 148, 185, 222, 3, 40, 77, 114, 151, 188, 225, 6, 43, 80, 117, 154, 191, 228, 9, 46, 83, 120, 157, 194, 231, 12, 49, 86, 123, 160, 197, 234, 15, 52, 89, 126, 163, 200, 237, 18, 55, 92];
const UP_CV2 = [0, 37, 74, 48, 85, 123, 118, 139, 176, 187, 48, 85, 177, 38, 74, 86, 107, 144, 139, 176, 69, 188, 225, 6, 17, 54, 91, 66, 103, 140, 129, 156, 193, 134, 65, 102, 123, 55, 92, 97, 124, 161, 156, 136, 86, 205, 140, 23, 43, 80, 117, 92, 129, 166, 145, 182, 219, 54, 91, 128, 44, 81, 118, 113, 150, 187, 182, 75, 112, 231, 12, 49, 69, 106, 143, 117, 154, 124, 171, 208, 101, 80, 117, 106, 69, 106, 143, 139, 176, 213, 122, 101, 138, 103, 38, 75, 86, 123, 160, 134, 171, 96, 188, 225, 22, 97, 134, 91, 87, 124, 161, 156, 193, 230, 81, 118, 155, 18, 55, 92];
const DOWN_SRC = Array.from({ length: 7 * 5 * 3 }, (_, i) => (i * 53) % 256);
const DOWN_CV2 = [172, 98, 108, 96, 85, 138, 83, 136, 167, 96, 149, 75, 190, 51, 104, 92, 145, 134];

describe('resizeBilinearRgb (OpenCV INTER_LINEAR, uint8)', () => {
  it('matches cv2.resize when enlarging 5x3 -> 8x5 (border rows and columns included)', () => {
    expect(Array.from(resizeBilinearRgb(new Uint8Array(UP_SRC), 5, 3, 8, 5))).toEqual(UP_CV2);
  });

  it('matches cv2.resize when shrinking 7x5 -> 3x2 (samples 2x2 pixels, no low-pass)', () => {
    expect(Array.from(resizeBilinearRgb(new Uint8Array(DOWN_SRC), 7, 5, 3, 2))).toEqual(DOWN_CV2);
  });

  it('an exact 2x shrink is the rounded 2x2 mean (OpenCV switches to INTER_AREA there)', () => {
    const src = new Uint8Array([10, 0, 0, 21, 0, 0, 30, 0, 0, 40, 0, 0]); // 2x2, red only
    expect(Array.from(resizeBilinearRgb(src, 2, 2, 1, 1))).toEqual([25, 0, 0]); // (101 + 2) >> 2
  });

  it('returns the input for an unchanged size and rejects a short buffer', () => {
    const src = new Uint8Array(12);
    expect(resizeBilinearRgb(src, 2, 2, 2, 2)).toBe(src);
    expect(() => resizeBilinearRgb(new Uint8Array(11), 2, 2, 4, 4)).toThrow(/needs 12/);
  });
});
