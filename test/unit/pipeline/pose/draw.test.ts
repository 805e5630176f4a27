import { describe, expect, it } from 'vitest';
import { drawPoses } from '../../../../pipeline/pose/draw.js';
import { BOX_COLOR, COCO_SKELETON, KEYPOINT_PALETTE, LIMB_COLORS } from '../../../../pipeline/pose/skeleton.js';
import type { Person } from '../../../../pipeline/wire/v1.js';

function pixel(rgb: Uint8Array, width: number, x: number, y: number): number[] {
  const i = (y * width + x) * 3;
  return [rgb[i]!, rgb[i + 1]!, rgb[i + 2]!];
}

function person(keypoints: Array<[number, number, number]>): Person {
  return { box: [100, 100, 300, 500], score: 0.9, keypoints };
}

describe('skeleton and drawPoses', () => {
  it('has one colour per edge and per keypoint, edges within 0..16', () => {
    expect(COCO_SKELETON).toHaveLength(19);
    expect(LIMB_COLORS).toHaveLength(19);
    expect(KEYPOINT_PALETTE).toHaveLength(17);
    expect(COCO_SKELETON.flat().every((k) => k >= 0 && k < 17)).toBe(true);
  });

  it('draws box, limbs and keypoints scaled from source to buffer pixels', () => {
    // Source 800x1000 drawn into a 400x500 buffer: everything at half scale.
    const width = 400;
    const height = 500;
    const rgb = new Uint8Array(width * height * 3);
    const keypoints: Array<[number, number, number]> = Array.from({ length: 17 }, () => [0, 0, 0]);
    keypoints[5] = [200, 400, 0.9]; // left shoulder
    keypoints[7] = [200, 600, 0.9]; // left elbow: edge [5, 7] is drawn
    keypoints[9] = [400, 600, 0.2]; // left wrist below threshold: not drawn, nor edge [7, 9]
    drawPoses(rgb, width, height, [person(keypoints)], 800, 1000);
    expect(pixel(rgb, width, 50, 100)).toEqual([...BOX_COLOR]); // box corner (100,100)/2
    expect(pixel(rgb, width, 150, 250)).toEqual([...BOX_COLOR]); // box corner (300,500)/2
    expect(pixel(rgb, width, 53, 100)).toEqual([0, 0, 0]); // inside the 2 px box line
    expect(pixel(rgb, width, 100, 200)).toEqual([...KEYPOINT_PALETTE[5]!]);
    const limb = COCO_SKELETON.findIndex(([a, b]) => a === 5 && b === 7);
    expect(pixel(rgb, width, 100, 250)).toEqual([...LIMB_COLORS[limb]!]);
    expect(pixel(rgb, width, 200, 300)).toEqual([0, 0, 0]); // wrist not drawn
    expect(pixel(rgb, width, 150, 275)).toEqual([0, 0, 0]); // nor the elbow-wrist limb
    expect(pixel(rgb, width, 0, 0)).toEqual([0, 0, 0]); // (0,0) keypoints are absent ones
  });

  it('clips drawing at the buffer edges and rejects a short buffer', () => {
    const rgb = new Uint8Array(20 * 10 * 3);
    const keypoints: Array<[number, number, number]> = Array.from({ length: 17 }, () => [19, 9, 0.99]);
    expect(() => drawPoses(rgb, 20, 10, [{ box: [-5, -5, 50, 50], score: 1, keypoints }], 20, 10)).not.toThrow();
    expect(pixel(rgb, 20, 19, 9)).toEqual([...KEYPOINT_PALETTE[16]!]);
    expect(() => drawPoses(new Uint8Array(10), 20, 10, [], 20, 10)).toThrow(/needs 600/);
  });
});
