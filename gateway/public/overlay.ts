import { BOX_COLOR, COCO_SKELETON, KEYPOINT_DRAW_THRESHOLD, KEYPOINT_PALETTE, LIMB_COLORS, type Rgb } from '../../pipeline/pose/skeleton.js';
import type { Person } from '../../pipeline/wire/v1.js';

/**
 * Skeleton overlays drawn in the browser on the frame they were computed from, with the same skeleton and palette
 * as the server-side drawer (pipeline/pose/draw.ts). Persons are in source pixels; the canvas holds the fitted frame.
 * Tracked persons get their id above the box and, when trails are on, a short line through their last positions,
 * both in a colour of their own.
 */

const css = (rgb: Rgb): string => `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;

/** Distinct colours for track ids (Tableau 10): neighbours in id get far-apart hues. */
const TRACK_PALETTE: readonly Rgb[] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [188, 189, 34], [23, 190, 207], [127, 127, 127],
];

export function trackColor(trackId: number): Rgb {
  return TRACK_PALETTE[trackId % TRACK_PALETTE.length]!;
}

interface TrailPoint {
  seq: number;
  x: number;
  y: number;
}

/**
 * The last positions of each track of one stream (bottom centre of the box: where the person stands), for short
 * trails. Bounded: `length` results back; tracks not seen for that long are forgotten.
 */
export class TrackTrails {
  private readonly tracks = new Map<number, TrailPoint[]>();
  private lastSeq = -1;

  constructor(private readonly length = 40) {}

  add(seq: number, persons: readonly Person[]): void {
    if (seq < this.lastSeq) this.tracks.clear(); // the stream started over
    this.lastSeq = seq;
    for (const person of persons) {
      if (person.trackId === undefined) continue;
      const points = this.tracks.get(person.trackId) ?? [];
      if (points.at(-1)?.seq === seq) continue;
      points.push({ seq, x: (person.box[0] + person.box[2]) / 2, y: person.box[3] });
      this.tracks.set(person.trackId, points);
    }
    for (const [id, points] of this.tracks) {
      while (points.length > 0 && points[0]!.seq <= seq - this.length) points.shift();
      if (points.length === 0) this.tracks.delete(id);
    }
  }

  /** The track's positions up to `seq` (a frame is painted after results newer than it may have arrived). */
  points(trackId: number, upToSeq = Number.POSITIVE_INFINITY): readonly TrailPoint[] {
    return (this.tracks.get(trackId) ?? []).filter((point) => point.seq <= upToSeq);
  }
}

export function drawOverlay(
  ctx: CanvasRenderingContext2D,
  persons: Person[],
  sourceWidth: number,
  sourceHeight: number,
  trail?: { trails: TrackTrails; upToSeq: number },
): void {
  const sx = ctx.canvas.width / sourceWidth;
  const sy = ctx.canvas.height / sourceHeight;
  const line = Math.max(2, Math.round(ctx.canvas.width / 320));
  ctx.lineWidth = line;
  for (const person of persons) {
    const [x1, y1, x2, y2] = person.box;
    const tracked = person.trackId !== undefined;
    ctx.strokeStyle = css(tracked ? trackColor(person.trackId!) : BOX_COLOR);
    ctx.strokeRect(x1 * sx, y1 * sy, (x2 - x1) * sx, (y2 - y1) * sy);
    if (tracked && trail) drawTrail(ctx, trail.trails.points(person.trackId!, trail.upToSeq), trackColor(person.trackId!), sx, sy, line);
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
    if (tracked) drawLabel(ctx, `#${person.trackId}`, trackColor(person.trackId!), x1 * sx, y1 * sy, line);
  }
}

function drawTrail(ctx: CanvasRenderingContext2D, points: readonly TrailPoint[], color: Rgb, sx: number, sy: number, line: number): void {
  if (points.length < 2) return;
  ctx.save();
  ctx.strokeStyle = css(color);
  ctx.globalAlpha = 0.8;
  ctx.lineWidth = line;
  ctx.beginPath();
  points.forEach((p, i) => (i === 0 ? ctx.moveTo(p.x * sx, p.y * sy) : ctx.lineTo(p.x * sx, p.y * sy)));
  ctx.stroke();
  ctx.restore();
}

/** The id on a filled tab sitting on the box's top-left corner (inside the canvas when the box touches the top). */
function drawLabel(ctx: CanvasRenderingContext2D, text: string, color: Rgb, x: number, y: number, line: number): void {
  const size = Math.max(12, line * 6);
  ctx.save();
  ctx.font = `bold ${size}px sans-serif`;
  const width = ctx.measureText(text).width + size * 0.6;
  const height = size * 1.3;
  const top = y - height >= 0 ? y - height : y;
  ctx.fillStyle = css(color);
  ctx.fillRect(x, top, width, height);
  ctx.fillStyle = '#fff';
  ctx.textBaseline = 'middle';
  ctx.fillText(text, x + size * 0.3, top + height / 2);
  ctx.restore();
}
