import { describe, expect, it } from 'vitest';
import { observeBody } from '../../../../pipeline/events/body.js';
import { DEFAULT_EVENT_RULES, eventRulesSchema } from '../../../../pipeline/events/config.js';
import { EventEngine } from '../../../../pipeline/events/engine.js';
import { classifyPosture, looksHorizontal } from '../../../../pipeline/events/posture-classifier.js';
import { stepPosture, type PostureState } from '../../../../pipeline/events/posture-rule.js';
import { POSES, figure, runFrames, sceneFrames, type PoseName } from '../../../support/stick-figure.js';

const place = { x: 600, floorY: 650, height: 400 };
const lying = DEFAULT_EVENT_RULES.lying;

function classify(pose: PoseName, confidence?: (index: number) => number): string {
  const person = figure(POSES[pose], place, confidence ? { confidence } : {});
  return classifyPosture(observeBody(person, 1280, 720, 0.35), 400, lying);
}

describe('posture classifier', () => {
  it.each([
    ['standing', 'standing'],
    ['armsUp', 'standing'],
    ['bentStanding', 'standing'],
    ['sittingChair', 'sitting'],
    ['bentSeated', 'sitting'],
    ['sittingFloor', 'sitting'],
    ['squat', 'crouching'],
    ['lying', 'lying'],
  ] as Array<[PoseName, string]>)('%s -> %s', (pose, expected) => {
    expect(classify(pose)).toBe(expected);
  });

  it('says unknown without hips and shoulders, and never calls a bent-over seated person lying', () => {
    expect(classify('standing', (index) => (index >= 5 ? 0.1 : 0.9))).toBe('unknown');
    const bent = observeBody(figure(POSES.bentSeated, place), 1280, 720, 0.35);
    expect(bent.torsoAngle!).toBeGreaterThan(60);
    expect(looksHorizontal(bent, 400, lying)).toBe(false);
  });

  it('takes a wide box with the legs visible for lying even when the torso keypoints are missing', () => {
    const person = figure(POSES.lying, place, { confidence: (index) => (index >= 13 ? 0.9 : 0.05) });
    expect(classifyPosture(observeBody(person, 1280, 720, 0.35), 400, lying)).toBe('lying');
    // The same wide box cut by the left border of the frame could be anything.
    const cut = { ...person, box: [0, person.box[1], person.box[2] - person.box[0], person.box[3]] as [number, number, number, number] };
    expect(classifyPosture(observeBody(cut, 1280, 720, 0.35), 400, lying)).not.toBe('lying');
  });
});

describe('posture rule', () => {
  const config = { enabled: true, minStableSec: 0.8 };
  const frame = (seq: number) => ({ seq, captureTs: seq * 100 });

  it('reports the first stable posture, then each change after minStableSec, from where it started', () => {
    const state: PostureState = {};
    const outcomes = [];
    for (let i = 0; i < 10; i++) outcomes.push(stepPosture(state, 'standing', i * 100, frame(i), config));
    expect(outcomes.filter(Boolean)).toEqual([{ start: frame(0), posture: 'standing', previous: null }]);
    // Flicker shorter than minStableSec changes nothing.
    for (let i = 10; i < 20; i++) expect(stepPosture(state, i % 3 === 0 ? 'sitting' : 'standing', i * 100, frame(i), config)).toBeUndefined();
    const later = [];
    for (let i = 20; i < 40; i++) later.push(stepPosture(state, i < 22 ? 'unknown' : 'lying', i * 100, frame(i), config));
    expect(later.filter(Boolean)).toEqual([{ start: frame(22), posture: 'lying', previous: 'standing' }]);
  });

  it('emits posture events with the schema fields through the engine, and not inside a suppressing zone', () => {
    const script = { trackId: 7, keyframes: [{ t: 0, pose: 'standing' as const, place }, { t: 2, pose: 'standing' as const, place }, { t: 2.5, pose: 'sittingChair' as const, place }, { t: 5, pose: 'sittingChair' as const, place }] };
    const events = runFrames(new EventEngine('cam', DEFAULT_EVENT_RULES), sceneFrames([script], { durationSec: 5 })).filter((event) => event.type === 'posture');
    expect(events.map((event) => [event.attributes.posture, event.attributes.previous])).toEqual([['standing', null], ['sitting', 'standing']]);
    expect(events[1]!.id).toBe(`cam:posture:7:${events[1]!.seq}`);
    expect(events[1]!.snapshot).toBe(false);
    const zones = [{ id: 'all', polygon: [[0, 0], [1, 0], [1, 1], [0, 1]] as Array<[number, number]>, suppress: ['posture' as const], occupancy: false }];
    const suppressed = runFrames(new EventEngine('cam', eventRulesSchema.parse({ zones })), sceneFrames([script], { durationSec: 5 }));
    expect(suppressed.filter((event) => event.type === 'posture')).toEqual([]);
  });
});
