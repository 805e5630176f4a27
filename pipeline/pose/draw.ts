/**
 * Draws persons (box, limbs, keypoints) straight into an RGB24 buffer. Used by `posestream infer` and by the
 * gateway's preview encoder: rasterising in place costs well under a millisecond per frame, where an SVG overlay
 * through sharp costs ~18 ms (platform-facts). No anti-aliasing: the frame is JPEG-encoded afterwards anyway.
 */
import type { Person } from '../wire/v1.js';
import { BOX_COLOR, COCO_SKELETON, KEYPOINT_DRAW_THRESHOLD, KEYPOINT_PALETTE, LIMB_COLORS, type Rgb } from './skeleton.js';

interface Canvas {
  rgb: Uint8Array;
  width: number;
  height: number;
}

function fillRect(canvas: Canvas, x0: number, y0: number, x1: number, y1: number, color: Rgb): void {
  const left = Math.max(0, Math.floor(x0));
  const top = Math.max(0, Math.floor(y0));
  const right = Math.min(canvas.width - 1, Math.floor(x1));
  const bottom = Math.min(canvas.height - 1, Math.floor(y1));
  const [r, g, b] = color;
  for (let y = top; y <= bottom; y++) {
    let i = (y * canvas.width + left) * 3;
    for (let x = left; x <= right; x++, i += 3) {
      canvas.rgb[i] = r;
      canvas.rgb[i + 1] = g;
      canvas.rgb[i + 2] = b;
    }
  }
}

function fillCircle(canvas: Canvas, cx: number, cy: number, radius: number, color: Rgb): void {
  const r2 = radius * radius;
  const top = Math.max(0, Math.ceil(cy - radius));
  const bottom = Math.min(canvas.height - 1, Math.floor(cy + radius));
  const [r, g, b] = color;
  for (let y = top; y <= bottom; y++) {
    const dy = y - cy;
    const half = Math.sqrt(Math.max(0, r2 - dy * dy));
    const left = Math.max(0, Math.ceil(cx - half));
    const right = Math.min(canvas.width - 1, Math.floor(cx + half));
    let i = (y * canvas.width + left) * 3;
    for (let x = left; x <= right; x++, i += 3) {
      canvas.rgb[i] = r;
      canvas.rgb[i + 1] = g;
      canvas.rgb[i + 2] = b;
    }
  }
}

/** A thick segment as discs stamped along it at one-pixel steps (round caps for free). */
function drawLine(canvas: Canvas, x0: number, y0: number, x1: number, y1: number, thickness: number, color: Rgb): void {
  const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
  const radius = Math.max(0.5, thickness / 2);
  for (let s = 0; s <= steps; s++) {
    const t = s / steps;
    fillCircle(canvas, x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, radius, color);
  }
}

function strokeRect(canvas: Canvas, x0: number, y0: number, x1: number, y1: number, thickness: number, color: Rgb): void {
  const t = thickness - 1;
  fillRect(canvas, x0, y0, x1, y0 + t, color);
  fillRect(canvas, x0, y1 - t, x1, y1, color);
  fillRect(canvas, x0, y0, x0 + t, y1, color);
  fillRect(canvas, x1 - t, y0, x1, y1, color);
}

/**
 * Draw boxes, limbs and keypoints in place into an RGB24 buffer; persons in source pixels, scaled by
 * width/sourceWidth (the buffer may be the fitted frame rather than the source).
 */
export function drawPoses(
  rgb: Uint8Array,
  width: number,
  height: number,
  persons: Person[],
  sourceWidth: number,
  sourceHeight: number,
  keypointThreshold = KEYPOINT_DRAW_THRESHOLD,
): void {
  if (rgb.length < width * height * 3) {
    throw new RangeError(`RGB buffer holds ${rgb.length} bytes, ${width}x${height} needs ${width * height * 3}`);
  }
  const canvas: Canvas = { rgb, width, height };
  const sx = width / sourceWidth;
  const sy = height / sourceHeight;
  // Line width and dot size grow with the picture, as Ultralytics' annotator does (lw = 0.3% of the mean side).
  const lineWidth = Math.max(2, Math.round(((width + height) / 2) * 0.003));
  const dotRadius = Math.max(2, Math.round(lineWidth * 1.5));
  for (const person of persons) {
    const [x1, y1, x2, y2] = person.box;
    strokeRect(canvas, x1 * sx, y1 * sy, x2 * sx, y2 * sy, lineWidth, BOX_COLOR);
    const visible = (k: number): boolean => {
      const point = person.keypoints[k];
      // Ultralytics marks absent keypoints by clipping them to the border; (0, 0) is never a real joint.
      return point !== undefined && point[2] >= keypointThreshold && (point[0] > 0 || point[1] > 0);
    };
    COCO_SKELETON.forEach(([a, b], edge) => {
      if (!visible(a) || !visible(b)) return;
      const p = person.keypoints[a]!;
      const q = person.keypoints[b]!;
      drawLine(canvas, p[0] * sx, p[1] * sy, q[0] * sx, q[1] * sy, lineWidth, LIMB_COLORS[edge]!);
    });
    person.keypoints.forEach((point, k) => {
      if (visible(k)) fillCircle(canvas, point[0] * sx, point[1] * sy, dotRadius, KEYPOINT_PALETTE[k]!);
    });
  }
}
