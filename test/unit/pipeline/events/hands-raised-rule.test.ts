import { describe, expect, it } from 'vitest';
import { eventRulesSchema, type EventRulesInput } from '../../../../pipeline/events/config.js';
import { EventEngine } from '../../../../pipeline/events/engine.js';
import type { PoseEvent } from '../../../../pipeline/wire/v1.js';
import { blendPose, POSES, runFrames, sceneFrames, type Keyframe } from '../../../support/stick-figure.js';

const place = { x: 600, floorY: 650, height: 400 };
/** Right arm up (the side the figure spreads to -x), left arm down at the hip. */
const oneArmUp = { ...POSES.armsUp, leftElbow: [0.14, -0.64] as const, leftWrist: [0.15, -0.47] as const };

function raises(keyframes: Keyframe[], rules: EventRulesInput = {}, durationSec = 8): PoseEvent[] {
  const events = runFrames(new EventEngine('cam', eventRulesSchema.parse(rules)), sceneFrames([{ trackId: 2, keyframes }], { durationSec, fps: 20 }));
  return events.filter((event) => event.type === 'hands_raised');
}

describe('hands raised rule', () => {
  it('fires once per raise after minDurationMs with both wrists above the head, starting where the raise began', () => {
    const keyframes: Keyframe[] = [
      { t: 0, pose: 'standing', place },
      { t: 1, pose: 'standing', place },
      { t: 1.05, pose: 'armsUp', place },
      { t: 4, pose: 'armsUp', place },
      { t: 4.05, pose: 'standing', place },
      { t: 5, pose: 'standing', place },
      { t: 5.05, pose: 'armsUp', place },
      { t: 5.5, pose: 'armsUp', place },
      { t: 5.55, pose: 'standing', place },
      { t: 8, pose: 'standing', place },
    ];
    const events = raises(keyframes);
    // The second raise lasts 0.5 s < minDurationMs (1 s).
    expect(events).toHaveLength(1);
    const [raise] = events;
    expect(raise!.seq / 20).toBeCloseTo(1.05, 1);
    expect(raise!.atSeq / 20).toBeCloseTo(2.05, 1);
    expect(raise!.attributes).toMatchObject({ hands: 'both' });
    expect(raise!.id).toBe(`cam:hands_raised:2:${raise!.seq}`);
  });

  it("needs both hands by default, one with hands: 'either'", () => {
    const keyframes: Keyframe[] = [{ t: 0, pose: oneArmUp, place }, { t: 3, pose: oneArmUp, place }];
    expect(raises(keyframes, {}, 3)).toEqual([]);
    const either = raises(keyframes, { handsRaised: { hands: 'either' } }, 3);
    expect(either).toHaveLength(1);
    expect(either[0]!.attributes.hands).toBe('right');
  });

  it('does not split one raise when the wrists drop out for less than releaseMs', () => {
    const frames = sceneFrames([{ trackId: 2, keyframes: [{ t: 0, pose: 'armsUp', place }, { t: 4, pose: 'armsUp', place }] }], { durationSec: 4, fps: 20 });
    // Wrists invisible for 0.3 s every second.
    for (const frame of frames) {
      if ((frame.seq % 20) < 6) for (const person of frame.persons) person.keypoints = person.keypoints.map((k, i) => (i === 9 || i === 10 ? [k[0], k[1], 0.05] : k));
    }
    const events = runFrames(new EventEngine('cam', eventRulesSchema.parse({})), frames).filter((event) => event.type === 'hands_raised');
    expect(events).toHaveLength(1);
  });

  it('ignores people lying down, and hands only level with the face', () => {
    const lyingArmsOut = { ...POSES.lying, wrist: [-1.1, -0.07] as const, elbow: [-1, -0.07] as const };
    expect(raises([{ t: 0, pose: lyingArmsOut, place }, { t: 3, pose: lyingArmsOut, place }], {}, 3)).toEqual([]);
    const atFace = blendPose(POSES.standing, POSES.armsUp, 0.45);
    expect(raises([{ t: 0, pose: atFace, place }, { t: 3, pose: atFace, place }], {}, 3)).toEqual([]);
  });
});
