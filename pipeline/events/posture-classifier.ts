/**
 * One frame's posture from body geometry, normalised by the track's height H. Single-view 2D geometry cannot
 * always tell (a person lying straight towards the camera looks short and upright), so the fall rule adds motion
 * and history on top; this is the per-frame evidence. Pure.
 *
 * Vertical extents (y down, x H): torso = hips.y - shoulders.y (upright ~0.3), thigh = knees.y - hips.y
 * (standing ~0.24, seated ~0), legs = ankles.y - hips.y (standing ~0.45, on a chair ~0.25-0.35, on the floor or
 * in a deep squat < 0.18).
 */
import type { Posture } from '../wire/v1.js';
import { angleFromVertical, type BodyObservation } from './body.js';
import type { LyingConfig } from './config.js';

/** A torso shorter than this (x H) is too foreshortened for its angle to mean anything. */
const MIN_TORSO_FOR_ANGLE = 0.12;
/** The shoulders to feet-or-knees axis must be at least this long (x H) to count. */
const MIN_BODY_AXIS = 0.25;
/**
 * Feet this far (x H) below the hips mean the legs hang down: someone bending forward on a chair, not lying, even
 * with a horizontal torso (lying people have hips and feet at about the same height, < 0.12 in the clips).
 */
const LEGS_HANGING = 0.2;

/** Torso, whole body or box clearly horizontal. */
export function looksHorizontal(observation: BodyObservation, height: number, lying: LyingConfig): boolean {
  const { shoulders, hips, ankles, knees } = observation;
  const legsHang = hips !== undefined && ankles !== undefined && (ankles.y - hips.y) / height >= LEGS_HANGING;
  if (!legsHang && shoulders && hips && observation.torsoAngle !== undefined) {
    const torso = Math.hypot(shoulders.x - hips.x, shoulders.y - hips.y) / height;
    if (torso >= MIN_TORSO_FOR_ANGLE && observation.torsoAngle >= lying.angleDeg) return true;
  }
  const lower = ankles ?? knees;
  if (!legsHang && shoulders && lower && Math.hypot(shoulders.x - lower.x, shoulders.y - lower.y) / height >= MIN_BODY_AXIS) {
    // Measured from the lower point up: a body axis pointing down (upside down) is as horizontal as it gets.
    if (angleFromVertical(lower, shoulders) >= lying.angleDeg) return true;
  }
  return boxLooksLying(observation, height, lying.aspect);
}

/**
 * A wide, low box. Not when the frame border cuts its sides (the rest of the person may be outside), nor when
 * it ends at the bottom border with no legs visible (a head and shoulders entering from below are wide too).
 */
function boxLooksLying(observation: BodyObservation, height: number, aspect: number): boolean {
  const [x1, y1, x2, y2] = observation.box;
  const width = x2 - x1;
  const boxHeight = y2 - y1;
  if (!(boxHeight > 0) || width / boxHeight < aspect || boxHeight > 0.6 * height) return false;
  if (observation.clipped.left || observation.clipped.right) return false;
  if (observation.clipped.bottom && !observation.knees && !observation.ankles) return false;
  return true;
}

export function classifyPosture(observation: BodyObservation, height: number, lying: LyingConfig): Posture {
  if (!(height > 0)) return 'unknown';
  if (looksHorizontal(observation, height, lying)) return 'lying';
  const { shoulders, hips, knees, ankles, torsoAngle } = observation;
  if (!hips || !shoulders || torsoAngle === undefined) return 'unknown';
  const torso = (hips.y - shoulders.y) / height;
  const thigh = knees ? (knees.y - hips.y) / height : undefined;
  const legs = ankles ? (ankles.y - hips.y) / height : undefined;
  if (thigh === undefined && legs === undefined) return 'unknown';
  // Straight legs under the hips: standing, also when bending over (the torso angle does not matter).
  if (thigh !== undefined && thigh >= 0.15 && (legs === undefined ? torsoAngle <= 35 : legs >= 0.33)) return 'standing';
  if (legs === undefined) return thigh !== undefined && thigh < 0.12 && torsoAngle <= 45 ? 'sitting' : 'unknown';
  // Hips well above the feet but thighs not hanging: on a chair or a bed, upright or leaning forward.
  if (legs >= 0.18) return 'sitting';
  // Hips down near the feet: upright and full-length torso is sitting on the floor, otherwise a crouch or squat.
  return torsoAngle <= 20 && torso >= 0.24 ? 'sitting' : 'crouching';
}
