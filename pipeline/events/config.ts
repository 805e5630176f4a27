/**
 * Configuration of the event engine of one stream: rule thresholds, zones and lines. The single definition:
 * stream definitions (config file, REST) embed `eventRulesSchema`; the engine reads the parsed, defaulted value.
 * Every object is strict (a misspelt key is an error); `storedEventRulesSchema` is the same, loose, for registry
 * entries written by another version. Lengths are fractions of the person's standing height H
 * (see body.ts), so the same numbers hold near and far from the camera; times are media seconds.
 */
import { z } from 'zod';
import { POSE_EVENT_TYPES } from '../wire/v1.js';

const ratio = z.number().min(0).max(1);
const seconds = z.number().min(0).max(3600);
/** Normalised frame coordinates: x / width, y / height, 0..1 (y down, as the frame is displayed). */
export const normalisedPointSchema = z.tuple([ratio, ratio]);
export type NormalisedPoint = z.infer<typeof normalisedPointSchema>;

export const ruleIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1-64 characters: letters, digits, "_", "." or "-"');

export const SUPPRESSIBLE_RULES = ['fall', 'posture', 'hands_raised'] as const;

type Strictness = 'strict' | 'loose';

function objectOf<S extends z.ZodRawShape>(shape: S, mode: Strictness) {
  return mode === 'strict' ? z.object(shape).strict() : z.object(shape).loose();
}

function withDistinctEnds<T extends z.ZodType<{ a: readonly [number, number]; b: readonly [number, number] }>>(line: T) {
  return line.refine((value) => value.a[0] !== value.b[0] || value.a[1] !== value.b[1], { message: 'a and b must differ', path: ['b'] });
}

const fallShape = {
  enabled: z.boolean().default(true),
  /** The shoulders (box top when they are not visible) must drop at least this much (x H) ... */
  minUpperDrop: ratio.default(0.4),
  /** ... and the hips at least this much (x H), when they are visible: bending forward on a chair drops no hips. */
  minHipDrop: ratio.default(0.1),
  /** ... within this many seconds: lowering oneself deliberately (lying down on a bed) takes longer. */
  maxFallSec: seconds.default(2),
  /** After the drop the person must stay down this long before `fall` fires (a squat comes back up). */
  minDownSec: seconds.default(1),
  /**
   * "Down" is lying (see `lying`) or the shoulders within this much (x H) of the floor line where the feet
   * stood before the drop (someone lying straight towards the camera looks short and upright).
   */
  nearFloor: ratio.default(0.2),
  /** Up again (upper body back within `recoverDrop` x H of its pre-fall height, not lying) this long: `recovered`. */
  recoverSec: seconds.default(1.5),
  recoverDrop: ratio.default(0.25),
};
export const fallRuleSchema = objectOf(fallShape, 'strict');
export type FallRuleConfig = z.infer<typeof fallRuleSchema>;

/** When a person counts as lying (posture `lying`, and "down" for the fall rule). */
const lyingShape = {
  /** Torso (hips -> shoulders) or body axis (feet -> shoulders) at least this far from vertical, degrees ... */
  angleDeg: z.number().min(30).max(90).default(60),
  /** ... or a box at least this much wider than tall (its sides not cut by the frame border). */
  aspect: z.number().min(1).max(5).default(1.4),
};
export const lyingSchema = objectOf(lyingShape, 'strict');
export type LyingConfig = z.infer<typeof lyingSchema>;

const postureShape = {
  enabled: z.boolean().default(true),
  /** A new posture must hold this long before it is reported (classification flickers between frames). */
  minStableSec: seconds.default(0.8),
};
export const postureRuleSchema = objectOf(postureShape, 'strict');
export type PostureRuleConfig = z.infer<typeof postureRuleSchema>;

const handsRaisedShape = {
  enabled: z.boolean().default(true),
  /** 'both': both wrists above the head; 'either': one is enough. */
  hands: z.enum(['both', 'either']).default('both'),
  /** Wrists at least this much (x H) above the top of the head keypoints. */
  margin: ratio.default(0.03),
  minDurationMs: z.number().int().min(0).max(600_000).default(1000),
  /** Hands down for this long ends a raise (a new raise after that is a new event). */
  releaseMs: z.number().int().min(0).max(600_000).default(500),
};
export const handsRaisedRuleSchema = objectOf(handsRaisedShape, 'strict');
export type HandsRaisedRuleConfig = z.infer<typeof handsRaisedRuleSchema>;

const zoneShape = {
  id: ruleIdSchema,
  /** Polygon vertices in normalised frame coordinates, in order (either winding); at least 3. */
  polygon: z.array(normalisedPointSchema).min(3).max(64),
  /** `dwell` fires once per stay after this many seconds inside; absent: no dwell events. */
  dwellSec: seconds.optional(),
  /** Rules ignored for people whose feet are inside (a bed: ['fall']). */
  suppress: z.array(z.enum(SUPPRESSIBLE_RULES)).default([]),
  /** Report `occupancy` (people inside) whenever it changes. */
  occupancy: z.boolean().default(true),
  /** Inside/outside must hold this long before enter/exit fires (a foot on the edge jitters). */
  debounceSec: seconds.default(0.3),
};
export const zoneSchema = objectOf(zoneShape, 'strict');
export type ZoneConfig = z.infer<typeof zoneSchema>;

const lineShape = {
  id: ruleIdSchema,
  /**
   * From a to b, normalised frame coordinates. Crossing direction is named as seen standing at a looking
   * towards b on the displayed frame: `left_to_right` goes from the left-hand side to the right-hand side.
   */
  a: normalisedPointSchema,
  b: normalisedPointSchema,
  /** Dead band either side of the line (normalised units): jitter inside it never counts as a crossing. */
  band: z.number().min(0).max(0.2).default(0.01),
};
export const lineSchema = withDistinctEnds(objectOf(lineShape, 'strict'));
export type LineConfig = z.infer<typeof lineSchema>;

/**
 * The rules of one stream, built strict (config and REST: a misspelt key is an error) or loose (an entry read back
 * from the registry: keys a newer posestream added are kept, not an error, so an older worker still runs the stream).
 */
function rulesSchema(mode: Strictness) {
  const lying = objectOf(lyingShape, mode);
  const fall = objectOf(fallShape, mode);
  const posture = objectOf(postureShape, mode);
  const handsRaised = objectOf(handsRaisedShape, mode);
  return objectOf(
    {
      /** Keypoints below this confidence are treated as not seen. */
      keypointConfidence: ratio.default(0.35),
      /** A track not seen for this long is forgotten (its zones are exited). */
      trackExpirySec: seconds.default(5),
      lying: lying.default(lying.parse({})),
      fall: fall.default(fall.parse({})),
      posture: posture.default(posture.parse({})),
      handsRaised: handsRaised.default(handsRaised.parse({})),
      zones: z.array(objectOf(zoneShape, mode)).max(64).default([]),
      lines: z.array(withDistinctEnds(objectOf(lineShape, mode))).max(64).default([]),
      /** Event types stored with an annotated JPEG of their decisive frame. */
      snapshots: z.array(z.enum(POSE_EVENT_TYPES)).default(['fall']),
    },
    mode,
  ).superRefine((rules, ctx) => {
    for (const [field, list] of [['zones', rules.zones], ['lines', rules.lines]] as const) {
      const seen = new Set<string>();
      list.forEach((entry, index) => {
        if (seen.has(entry.id)) ctx.addIssue({ code: 'custom', message: `duplicate id "${entry.id}"`, path: [field, index, 'id'] });
        seen.add(entry.id);
      });
    }
  });
}

export const eventRulesSchema = rulesSchema('strict');
/** The same rules read from a registry entry (see rulesSchema). */
export const storedEventRulesSchema = rulesSchema('loose');
export type EventRulesConfig = z.infer<typeof eventRulesSchema>;
export type EventRulesInput = z.input<typeof eventRulesSchema>;

export const DEFAULT_EVENT_RULES: EventRulesConfig = eventRulesSchema.parse({});
