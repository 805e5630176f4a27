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

// ---------------------------------------------------------------------------------------------------------------
// Zones and lines of the stream's event rules (normalised frame coordinates), and the one being drawn.

type Point = readonly [number, number];

export interface RuleShapes {
  zones: ReadonlyArray<{ id: string; polygon: readonly Point[] }>;
  lines: ReadonlyArray<{ id: string; a: Point; b: Point }>;
}

/** What the editor has drawn so far. */
export interface DraftShape {
  kind: 'zone' | 'line';
  points: readonly Point[];
  /** A polygon closed with a double-click or Enter. */
  closed: boolean;
}

const ZONE_COLOR = 'rgb(255, 196, 0)';
const LINE_COLOR = 'rgb(0, 229, 255)';
const DRAFT_COLOR = 'rgb(255, 64, 129)';

/**
 * The right-hand unit normal of a -> b on the displayed frame (y down): standing at a looking at b, the side a
 * `left_to_right` crossing goes to (pipeline/events/config.ts names the direction this way).
 */
export function rightHandNormal(a: Point, b: Point): Point {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const length = Math.hypot(dx, dy) || 1;
  return [-dy / length, dx / length];
}

export function drawRuleShapes(ctx: CanvasRenderingContext2D, shapes: RuleShapes, draft?: DraftShape): void {
  const { width, height } = ctx.canvas;
  const px = (p: Point): [number, number] => [p[0] * width, p[1] * height];
  const line = Math.max(2, Math.round(width / 320));
  ctx.save();
  ctx.lineWidth = line;
  for (const zone of shapes.zones) {
    tracePolygon(ctx, zone.polygon.map(px), true);
    ctx.fillStyle = 'rgba(255, 196, 0, 0.18)';
    ctx.fill();
    ctx.strokeStyle = ZONE_COLOR;
    ctx.stroke();
    const [x, y] = px(zone.polygon[0]!);
    drawTag(ctx, zone.id, ZONE_COLOR, x, y, line);
  }
  for (const rule of shapes.lines) drawDirectedLine(ctx, px(rule.a), px(rule.b), LINE_COLOR, line, rule.id);
  if (draft && draft.points.length > 0) {
    const points = draft.points.map(px);
    ctx.strokeStyle = DRAFT_COLOR;
    ctx.setLineDash([line * 3, line * 2]);
    if (draft.kind === 'line' && points.length === 2) drawDirectedLine(ctx, points[0]!, points[1]!, DRAFT_COLOR, line);
    else {
      tracePolygon(ctx, points, draft.closed);
      ctx.stroke();
    }
    ctx.setLineDash([]);
    ctx.fillStyle = DRAFT_COLOR;
    for (const [x, y] of points) {
      ctx.beginPath();
      ctx.arc(x, y, line + 2, 0, Math.PI * 2);
      ctx.fill();
    }
  }
  ctx.restore();
}

function tracePolygon(ctx: CanvasRenderingContext2D, points: ReadonlyArray<readonly [number, number]>, close: boolean): void {
  ctx.beginPath();
  points.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
  if (close) ctx.closePath();
}

/** The line, and an arrow from its middle towards the side a left_to_right crossing goes to. */
function drawDirectedLine(ctx: CanvasRenderingContext2D, a: [number, number], b: [number, number], color: string, line: number, label?: string): void {
  // In pixels: perpendicular on screen (scaling x and y by the frame size keeps the side, not the angle).
  const normal = rightHandNormal(a, b);
  ctx.strokeStyle = color;
  ctx.beginPath();
  ctx.moveTo(a[0], a[1]);
  ctx.lineTo(b[0], b[1]);
  ctx.stroke();
  const mid: [number, number] = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
  const arrow = line * 16;
  const tip: [number, number] = [mid[0] + normal[0] * arrow, mid[1] + normal[1] * arrow];
  ctx.beginPath();
  ctx.moveTo(mid[0], mid[1]);
  ctx.lineTo(tip[0], tip[1]);
  const head = line * 4;
  const back: [number, number] = [-normal[0], -normal[1]];
  const side: [number, number] = [-normal[1], normal[0]];
  ctx.moveTo(tip[0], tip[1]);
  ctx.lineTo(tip[0] + (back[0] + side[0]) * head, tip[1] + (back[1] + side[1]) * head);
  ctx.moveTo(tip[0], tip[1]);
  ctx.lineTo(tip[0] + (back[0] - side[0]) * head, tip[1] + (back[1] - side[1]) * head);
  ctx.stroke();
  // The arrow's side is where a left_to_right crossing goes.
  drawTag(ctx, 'L→R', color, tip[0] + normal[0] * head, tip[1] + normal[1] * head + line * 3, line);
  if (label) drawTag(ctx, label, color, a[0], a[1], line);
}

function drawTag(ctx: CanvasRenderingContext2D, text: string, color: string, x: number, y: number, line: number): void {
  const size = Math.max(11, line * 5);
  ctx.save();
  ctx.font = `bold ${size}px sans-serif`;
  const width = ctx.measureText(text).width + size * 0.6;
  const height = size * 1.3;
  const left = Math.min(Math.max(0, x), ctx.canvas.width - width);
  const top = Math.min(Math.max(0, y - height), ctx.canvas.height - height);
  ctx.fillStyle = color;
  ctx.fillRect(left, top, width, height);
  ctx.fillStyle = '#000';
  ctx.textBaseline = 'middle';
  ctx.fillText(text, left + size * 0.3, top + height / 2);
  ctx.restore();
}
