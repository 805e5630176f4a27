/**
 * Plane geometry for zones and lines, in normalised frame coordinates (x right, y down). Hand-written because it
 * is a dozen lines of textbook formulas with no dependency worth pulling in for it. Pure.
 */
export type Vec = readonly [number, number];

/** Even-odd ray casting; points exactly on an edge may go either way (zones debounce, so it does not matter). */
export function pointInPolygon(point: Vec, polygon: readonly Vec[]): boolean {
  const [x, y] = point;
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]!;
    const [xj, yj] = polygon[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * Signed distance of `point` from the infinite line a -> b. Negative: on the left as seen from a looking at b on
 * the displayed frame (y grows downwards, so "left" of a rightward line is above it); positive: on the right.
 */
export function signedDistance(point: Vec, a: Vec, b: Vec): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const length = Math.hypot(dx, dy);
  return (dx * (point[1] - a[1]) - dy * (point[0] - a[0])) / length;
}

function orientation(p: Vec, q: Vec, r: Vec): number {
  return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]);
}

/** Whether segments p1-p2 and q1-q2 intersect (touching counts). */
export function segmentsIntersect(p1: Vec, p2: Vec, q1: Vec, q2: Vec): boolean {
  const d1 = orientation(q1, q2, p1);
  const d2 = orientation(q1, q2, p2);
  const d3 = orientation(p1, p2, q1);
  const d4 = orientation(p1, p2, q2);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true;
  const onSegment = (p: Vec, q: Vec, r: Vec) =>
    Math.min(p[0], q[0]) <= r[0] && r[0] <= Math.max(p[0], q[0]) && Math.min(p[1], q[1]) <= r[1] && r[1] <= Math.max(p[1], q[1]);
  return (d1 === 0 && onSegment(q1, q2, p1)) || (d2 === 0 && onSegment(q1, q2, p2)) || (d3 === 0 && onSegment(p1, p2, q1)) || (d4 === 0 && onSegment(p1, p2, q2));
}

/** Intersection over union of two [x1, y1, x2, y2] boxes. */
export function boxIou(a: readonly number[], b: readonly number[]): number {
  const w = Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!);
  const h = Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!);
  if (w <= 0 || h <= 0) return 0;
  const intersection = w * h;
  const union = (a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - intersection;
  return union > 0 ? intersection / union : 0;
}

/** Intersection over the smaller of the two areas: 1 when one box lies inside the other. */
export function boxCover(a: readonly number[], b: readonly number[]): number {
  const w = Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!);
  const h = Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!);
  if (w <= 0 || h <= 0) return 0;
  const smaller = Math.min((a[2]! - a[0]!) * (a[3]! - a[1]!), (b[2]! - b[0]!) * (b[3]! - b[1]!));
  return smaller > 0 ? (w * h) / smaller : 0;
}
