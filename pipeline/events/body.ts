/**
 * Body measurements of one detected person, from the keypoints the model is confident about. Every rule reads
 * these rather than raw keypoints, so "which keypoints count" and "how big is this person" are decided once.
 * Image coordinates: x right, y down, source pixels. Pure.
 */
import type { Person } from '../wire/v1.js';

export const KP = {
  nose: 0, leftEye: 1, rightEye: 2, leftEar: 3, rightEar: 4,
  leftShoulder: 5, rightShoulder: 6, leftElbow: 7, rightElbow: 8, leftWrist: 9, rightWrist: 10,
  leftHip: 11, rightHip: 12, leftKnee: 13, rightKnee: 14, leftAnkle: 15, rightAnkle: 16,
} as const;

export interface Point {
  x: number;
  y: number;
}

/**
 * Segment length as a fraction of standing height (adult anthropometry, Drillis & Contini; checked against
 * upright people in the development clips: shoulder-hip 0.29-0.30, hip-knee 0.22-0.26, knee-ankle 0.20-0.23).
 * A segment seen in 2D is never longer than this (foreshortening only shortens), so length / ratio is a lower
 * bound of the person's height in pixels.
 */
const SEGMENTS: ReadonlyArray<{ a: readonly [number, number]; b: readonly [number, number]; ratio: number }> = [
  { a: [KP.leftShoulder, KP.rightShoulder], b: [KP.leftHip, KP.rightHip], ratio: 0.3 },
  { a: [KP.leftHip, KP.rightHip], b: [KP.leftKnee, KP.rightKnee], ratio: 0.24 },
  { a: [KP.leftKnee, KP.rightKnee], b: [KP.leftAnkle, KP.rightAnkle], ratio: 0.23 },
  { a: [KP.leftShoulder, KP.rightShoulder], b: [KP.leftElbow, KP.rightElbow], ratio: 0.18 },
  { a: [KP.leftElbow, KP.rightElbow], b: [KP.leftWrist, KP.rightWrist], ratio: 0.15 },
];

export interface BodyObservation {
  box: readonly [number, number, number, number];
  frameWidth: number;
  frameHeight: number;
  /** Midpoints of the confident pairs; one side alone when only that side is confident. */
  shoulders?: Point;
  hips?: Point;
  knees?: Point;
  ankles?: Point;
  /** Highest (smallest y) confident face keypoint. */
  headY?: number;
  wrists: { left?: Point; right?: Point };
  /**
   * Height estimate of this frame from segment lengths (px): the second largest of the per-segment estimates,
   * so one mislocated keypoint cannot inflate it. Undefined with fewer than two confident segments.
   */
  segmentHeight?: number;
  /** Angle of the hips -> shoulders axis from vertical, degrees: 0 upright, 90 horizontal, 180 upside down. */
  torsoAngle?: number;
  /** Box edges touching the frame border (within 1% of the frame): the person may continue outside. */
  clipped: { top: boolean; bottom: boolean; left: boolean; right: boolean };
}

function confidentPoint(person: Person, index: number, minConfidence: number): Point | undefined {
  const keypoint = person.keypoints[index];
  if (!keypoint || !(keypoint[2] >= minConfidence)) return undefined;
  return { x: keypoint[0], y: keypoint[1] };
}

/** Midpoint of a left/right pair; one side when only that one is confident. */
export function pairPoint(person: Person, pair: readonly [number, number], minConfidence: number): Point | undefined {
  const left = confidentPoint(person, pair[0], minConfidence);
  const right = confidentPoint(person, pair[1], minConfidence);
  if (left && right) return { x: (left.x + right.x) / 2, y: (left.y + right.y) / 2 };
  return left ?? right;
}

/** Per side (left with left, right with right), the longer of the two visible segment lengths. */
function segmentLength(person: Person, a: readonly [number, number], b: readonly [number, number], minConfidence: number): number | undefined {
  let best: number | undefined;
  for (let side = 0; side < 2; side++) {
    const p = confidentPoint(person, a[side]!, minConfidence);
    const q = confidentPoint(person, b[side]!, minConfidence);
    if (!p || !q) continue;
    const length = Math.hypot(p.x - q.x, p.y - q.y);
    best = best === undefined ? length : Math.max(best, length);
  }
  return best;
}

export function segmentHeightEstimate(person: Person, minConfidence: number): number | undefined {
  const estimates: number[] = [];
  for (const segment of SEGMENTS) {
    const length = segmentLength(person, segment.a, segment.b, minConfidence);
    if (length !== undefined && length > 0) estimates.push(length / segment.ratio);
  }
  if (estimates.length < 2) return undefined;
  estimates.sort((p, q) => q - p);
  return estimates[1];
}

/** Degrees from vertical of the vector from `from` to `to` when `to` is above `from` (0 = straight up). */
export function angleFromVertical(from: Point, to: Point): number {
  return (Math.atan2(Math.abs(to.x - from.x), from.y - to.y) * 180) / Math.PI;
}

export function observeBody(person: Person, frameWidth: number, frameHeight: number, minConfidence: number): BodyObservation {
  const shoulders = pairPoint(person, [KP.leftShoulder, KP.rightShoulder], minConfidence);
  const hips = pairPoint(person, [KP.leftHip, KP.rightHip], minConfidence);
  const face = [KP.nose, KP.leftEye, KP.rightEye, KP.leftEar, KP.rightEar]
    .map((index) => confidentPoint(person, index, minConfidence))
    .filter((point): point is Point => point !== undefined);
  const [x1, y1, x2, y2] = person.box;
  const marginX = frameWidth * 0.01;
  const marginY = frameHeight * 0.01;
  const observation: BodyObservation = {
    box: person.box,
    frameWidth,
    frameHeight,
    wrists: {},
    clipped: { left: x1 <= marginX, right: x2 >= frameWidth - marginX, top: y1 <= marginY, bottom: y2 >= frameHeight - marginY },
  };
  if (shoulders) observation.shoulders = shoulders;
  if (hips) observation.hips = hips;
  const knees = pairPoint(person, [KP.leftKnee, KP.rightKnee], minConfidence);
  if (knees) observation.knees = knees;
  const ankles = pairPoint(person, [KP.leftAnkle, KP.rightAnkle], minConfidence);
  if (ankles) observation.ankles = ankles;
  if (face.length > 0) observation.headY = Math.min(...face.map((point) => point.y));
  const leftWrist = confidentPoint(person, KP.leftWrist, minConfidence);
  const rightWrist = confidentPoint(person, KP.rightWrist, minConfidence);
  if (leftWrist) observation.wrists.left = leftWrist;
  if (rightWrist) observation.wrists.right = rightWrist;
  const segmentHeight = segmentHeightEstimate(person, minConfidence);
  if (segmentHeight !== undefined) observation.segmentHeight = segmentHeight;
  if (shoulders && hips && (shoulders.x !== hips.x || shoulders.y !== hips.y)) {
    observation.torsoAngle = (Math.atan2(Math.abs(shoulders.x - hips.x), hips.y - shoulders.y) * 180) / Math.PI;
  }
  return observation;
}

/** Feet anchor for zones and lines: ankle midpoint, else the bottom centre of the box. Source pixels. */
export function feetAnchor(person: Person, minConfidence: number): Point {
  const ankles = pairPoint(person, [KP.leftAnkle, KP.rightAnkle], minConfidence);
  if (ankles) return ankles;
  return { x: (person.box[0] + person.box[2]) / 2, y: person.box[3] };
}
