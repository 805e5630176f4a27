/**
 * COCO-17 skeleton and colours of the OpenVINO YOLOv8 keypoint tutorial (Ultralytics' pose palette). Shared by
 * the server-side drawer (draw.ts) and the dashboard (bundled), so it must stay free of Node APIs.
 * Colours are [r, g, b] as the tutorial lists them.
 */
export type Rgb = readonly [number, number, number];

/** Keypoint index pairs (0-based; the tutorial lists them 1-based). */
export const COCO_SKELETON: ReadonlyArray<readonly [number, number]> = [
  [15, 13], [13, 11], [16, 14], [14, 12], [11, 12], [5, 11], [6, 12], [5, 6], [5, 7], [6, 8],
  [7, 9], [8, 10], [1, 2], [0, 1], [0, 2], [1, 3], [2, 4], [3, 5], [4, 6],
];

export const POSE_PALETTE: readonly Rgb[] = [
  [255, 128, 0], [255, 153, 51], [255, 178, 102], [230, 230, 0], [255, 153, 255],
  [153, 204, 255], [255, 102, 255], [255, 51, 255], [102, 178, 255], [51, 153, 255],
  [255, 153, 153], [255, 102, 102], [255, 51, 51], [153, 255, 153], [102, 255, 102],
  [51, 255, 51], [0, 255, 0], [0, 0, 255], [255, 0, 0], [255, 255, 255],
];

const pick = (indices: readonly number[]): readonly Rgb[] => indices.map((i) => POSE_PALETTE[i]!);

/** One colour per COCO_SKELETON edge: legs, hips/torso, arms, face. */
export const LIMB_COLORS: readonly Rgb[] = pick([9, 9, 9, 9, 7, 7, 7, 0, 0, 0, 0, 0, 16, 16, 16, 16, 16, 16, 16]);

/** One colour per keypoint: face, arms, legs. */
export const KEYPOINT_PALETTE: readonly Rgb[] = pick([16, 16, 16, 16, 16, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9, 9, 9]);

/** Person box colour (Ultralytics' class-0 colour, #FF3838). */
export const BOX_COLOR: Rgb = [255, 56, 56];

/** Keypoints below this confidence are not drawn (the tutorial's threshold). */
export const KEYPOINT_DRAW_THRESHOLD = 0.5;
