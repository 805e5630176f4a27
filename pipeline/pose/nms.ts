/**
 * Greedy class-agnostic non-maximum suppression over packed xyxy boxes, as models/.../decode.py does it: visit
 * candidates best score first (ties: earlier candidate first), keep one, drop every later candidate whose IoU
 * with it is above the threshold. Works in caller-owned typed arrays: nothing is allocated per candidate.
 */

/** IoU of boxes i and j in a packed [x1,y1,x2,y2, ...] array; 0 when the union is empty. */
export function boxIou(boxes: ArrayLike<number>, i: number, j: number): number {
  const a = i * 4;
  const b = j * 4;
  const interW = Math.min(boxes[a + 2]!, boxes[b + 2]!) - Math.max(boxes[a]!, boxes[b]!);
  const interH = Math.min(boxes[a + 3]!, boxes[b + 3]!) - Math.max(boxes[a + 1]!, boxes[b + 1]!);
  const inter = Math.max(interW, 0) * Math.max(interH, 0);
  const areaA = (boxes[a + 2]! - boxes[a]!) * (boxes[a + 3]! - boxes[a + 1]!);
  const areaB = (boxes[b + 2]! - boxes[b]!) * (boxes[b + 3]! - boxes[b + 1]!);
  const union = areaA + areaB - inter;
  return union > 0 ? inter / Math.max(union, 1e-12) : 0;
}

export interface NmsScratch {
  order: Int32Array;
  suppressed: Uint8Array;
}

export function createNmsScratch(capacity: number): NmsScratch {
  return { order: new Int32Array(capacity), suppressed: new Uint8Array(capacity) };
}

/**
 * boxes: count packed xyxy boxes; scores: count scores. Writes kept candidate indices (best first) into `keep`
 * and returns how many, at most maxKeep. `scratch` must hold at least `count` entries.
 */
export function nmsGreedy(
  boxes: ArrayLike<number>,
  scores: ArrayLike<number>,
  count: number,
  iouThreshold: number,
  maxKeep: number,
  keep: Int32Array,
  scratch: NmsScratch = createNmsScratch(count),
): number {
  if (scratch.order.length < count) throw new RangeError(`NMS scratch holds ${scratch.order.length}, needs ${count}`);
  const order = scratch.order.subarray(0, count);
  for (let i = 0; i < count; i++) order[i] = i;
  // Explicit tie-break keeps the result independent of the sort's stability and equal to NumPy's stable argsort.
  order.sort((a, b) => scores[b]! - scores[a]! || a - b);
  const suppressed = scratch.suppressed;
  suppressed.fill(0, 0, count);
  const limit = Math.min(maxKeep, keep.length);
  let kept = 0;
  for (let o = 0; o < count && kept < limit; o++) {
    const best = order[o]!;
    if (suppressed[best]) continue;
    keep[kept++] = best;
    for (let p = o + 1; p < count; p++) {
      const other = order[p]!;
      if (!suppressed[other] && boxIou(boxes, best, other) > iouThreshold) suppressed[other] = 1;
    }
  }
  return kept;
}
