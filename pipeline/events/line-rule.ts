/**
 * Line crossings: a track's feet anchor (normalised) is on the left or right of the line a -> b once it is more
 * than `band` away from it; a change of side is a crossing when the path between the two positions where the side
 * was last certain intersects the segment a-b (walking around its end is not crossing). Jitter within the band
 * never counts, so a person standing on the line produces no crossings. Pure.
 */
import type { LineConfig } from './config.js';
import { segmentsIntersect, signedDistance, type Vec } from './geometry.js';

export type CrossDirection = 'left_to_right' | 'right_to_left';

export interface LineTrackState {
  /** -1 left, 1 right: the side where the anchor last was outside the band, and where it was then. */
  side: -1 | 1;
  x: number;
  y: number;
}

/** Returns the crossing direction, if this position completes one. Updates `states[line.id]`. */
export function stepLine(states: Record<string, LineTrackState>, anchor: Vec, line: LineConfig): CrossDirection | undefined {
  const distance = signedDistance(anchor, line.a, line.b);
  if (Math.abs(distance) <= line.band) return undefined;
  const side: -1 | 1 = distance < 0 ? -1 : 1;
  const previous = states[line.id];
  states[line.id] = { side, x: anchor[0], y: anchor[1] };
  if (!previous || previous.side === side) return undefined;
  if (!segmentsIntersect([previous.x, previous.y], anchor, line.a, line.b)) return undefined;
  return previous.side < side ? 'left_to_right' : 'right_to_left';
}
