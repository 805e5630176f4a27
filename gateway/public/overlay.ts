import { BOX_COLOR, COCO_SKELETON, KEYPOINT_DRAW_THRESHOLD, KEYPOINT_PALETTE, LIMB_COLORS, type Rgb } from '../../pipeline/pose/skeleton.js';
import type { Person } from '../../pipeline/wire/v1.js';

/**
 * Skeleton overlays drawn in the browser on the frame they were computed from, with the same skeleton and palette
 * as the server-side drawer (pipeline/pose/draw.ts). Persons are in source pixels; the canvas holds the fitted frame.
 */

const css = (rgb: Rgb): string => `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;

export function drawOverlay(ctx: CanvasRenderingContext2D, persons: Person[], sourceWidth: number, sourceHeight: number): void {
  const sx = ctx.canvas.width / sourceWidth;
  const sy = ctx.canvas.height / sourceHeight;
  const line = Math.max(2, Math.round(ctx.canvas.width / 320));
  ctx.lineWidth = line;
  for (const person of persons) {
    const [x1, y1, x2, y2] = person.box;
    ctx.strokeStyle = css(BOX_COLOR);
    ctx.strokeRect(x1 * sx, y1 * sy, (x2 - x1) * sx, (y2 - y1) * sy);
    COCO_SKELETON.forEach(([a, b], i) => {
      const pa = person.keypoints[a]!;
      const pb = person.keypoints[b]!;
      if (pa[2] < KEYPOINT_DRAW_THRESHOLD || pb[2] < KEYPOINT_DRAW_THRESHOLD) return;
      ctx.strokeStyle = css(LIMB_COLORS[i]!);
      ctx.beginPath();
      ctx.moveTo(pa[0] * sx, pa[1] * sy);
      ctx.lineTo(pb[0] * sx, pb[1] * sy);
      ctx.stroke();
    });
    person.keypoints.forEach(([x, y, confidence], i) => {
      if (confidence < KEYPOINT_DRAW_THRESHOLD) return;
      ctx.fillStyle = css(KEYPOINT_PALETTE[i]!);
      ctx.beginPath();
      ctx.arc(x * sx, y * sy, line + 2, 0, Math.PI * 2);
      ctx.fill();
    });
  }
}
