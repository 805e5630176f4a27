/**
 * All rules for one tracked person in one frame: measures the body once, then runs fall, posture, hands raised,
 * zones and lines against that track's memory and returns event drafts. Zone suppression is decided here (on
 * the instant position of the feet, so a fall is judged where the person lies). Pure.
 */
import { feetAnchor, observeBody } from './body.js';
import { updateScale } from './body-scale.js';
import type { EventRulesConfig, ZoneConfig } from './config.js';
import type { TrackMemory } from './engine-state.js';
import type { EventDraft } from './event-factory.js';
import { stepFall } from './fall-rule.js';
import type { FrameRef, TrackedPerson } from './frame.js';
import { pointInPolygon, type Vec } from './geometry.js';
import { stepHandsRaised } from './hands-raised-rule.js';
import { stepLine } from './line-rule.js';
import { classifyPosture, looksHorizontal } from './posture-classifier.js';
import { stepPosture } from './posture-rule.js';
import { stepZone } from './zone-rule.js';

export interface TrackStepContext {
  rules: EventRulesConfig;
  clockMs: number;
  frame: FrameRef;
  frameWidth: number;
  frameHeight: number;
  /** Fall lineages down after a fall (see fall-rule.ts): a track split mid-fall reports it once. */
  downLineages: Set<number>;
}

export interface TrackStepResult {
  drafts: EventDraft[];
  crossings: Array<{ line: string; direction: 'left_to_right' | 'right_to_left' }>;
}

function insideZones(anchor: Vec, zones: readonly ZoneConfig[]): Set<string> {
  return new Set(zones.filter((zone) => pointInPolygon(anchor, zone.polygon)).map((zone) => zone.id));
}

export function stepTrack(memory: TrackMemory, person: TrackedPerson, context: TrackStepContext): TrackStepResult {
  const { rules, clockMs, frame } = context;
  const trackId = memory.id;
  const result: TrackStepResult = { drafts: [], crossings: [] };
  const observation = observeBody(person, context.frameWidth, context.frameHeight, rules.keypointConfidence);
  memory.scale = updateScale(memory.scale, observation, clockMs);
  const height = memory.scale.height;
  const feet = feetAnchor(person, rules.keypointConfidence);
  const anchor: Vec = [feet.x / context.frameWidth, feet.y / context.frameHeight];
  const inside = insideZones(anchor, rules.zones);
  const suppressed = (rule: ZoneConfig['suppress'][number]) => rules.zones.some((zone) => inside.has(zone.id) && zone.suppress.includes(rule));
  const score = person.score;

  if (rules.fall.enabled) {
    const outcome = stepFall(
      memory.fall,
      { clockMs, frame, observation, height, score, suppressed: suppressed('fall'), lineageAlerted: context.downLineages.has(memory.fall.lineage), lying: rules.lying },
      rules.fall,
    );
    if (outcome?.type === 'fall') memory.fall.alertedTrackId = trackId;
    if (outcome) {
      // A recovery names the track that fell (consumers pair the two), also when the person came back under a new id.
      const fellAs = outcome.type === 'recovered' ? (outcome.fellAs ?? trackId) : trackId;
      const attributes = fellAs === trackId ? outcome.attributes : { ...outcome.attributes, currentTrackId: trackId };
      result.drafts.push({ type: outcome.type, trackId: fellAs, start: outcome.start, at: frame, confidence: outcome.confidence, attributes });
    }
    if (memory.fall.phase === 'down') context.downLineages.add(memory.fall.lineage);
  }
  if (rules.posture.enabled && !suppressed('posture')) {
    const outcome = stepPosture(memory.posture, classifyPosture(observation, height, rules.lying), clockMs, frame, rules.posture);
    if (outcome) {
      result.drafts.push({ type: 'posture', trackId, start: outcome.start, at: frame, confidence: score, attributes: { posture: outcome.posture, previous: outcome.previous } });
    }
  }
  if (rules.handsRaised.enabled && !suppressed('hands_raised')) {
    const lying = looksHorizontal(observation, height, rules.lying);
    const outcome = stepHandsRaised(memory.hands, observation, height, lying, clockMs, frame, rules.handsRaised);
    if (outcome) {
      result.drafts.push({ type: 'hands_raised', trackId, start: outcome.start, at: frame, confidence: score, attributes: { hands: outcome.hands, heldMs: Math.round(outcome.heldMs) } });
    }
  }
  for (const zone of rules.zones) {
    const state = (memory.zones[zone.id] ??= { inside: false });
    for (const outcome of stepZone(state, inside.has(zone.id), clockMs, frame, zone)) {
      result.drafts.push({ type: outcome.type, trackId, start: outcome.start, at: frame, confidence: score, zone: zone.id, attributes: outcome.attributes });
    }
  }
  for (const line of rules.lines) {
    const direction = stepLine(memory.lines, anchor, line);
    if (direction) result.crossings.push({ line: line.id, direction });
  }
  return result;
}
