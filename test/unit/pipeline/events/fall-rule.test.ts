import { describe, expect, it } from 'vitest';
import { eventRulesSchema, type EventRulesInput } from '../../../../pipeline/events/config.js';
import { EventEngine } from '../../../../pipeline/events/engine.js';
import type { PoseEvent } from '../../../../pipeline/wire/v1.js';
import { runFrames, sceneFrames, type Keyframe, type SceneOptions, type TrackScript } from '../../../support/stick-figure.js';

const FLOOR = 650;
const H = 400;
const at = (x: number, floorY = FLOOR, height = H) => ({ x, floorY, height });

function run(scripts: TrackScript[], scene: SceneOptions, rules: EventRulesInput = {}): PoseEvent[] {
  return runFrames(new EventEngine('cam', eventRulesSchema.parse(rules)), sceneFrames(scripts, scene));
}

const falls = (events: PoseEvent[]) => events.filter((event) => event.type === 'fall');

/** Stands until `start`, falls to the floor in `durationSec`, lies until `until`. */
function fallScript(start: number, durationSec: number, until: number, trackId = 1): TrackScript {
  return {
    trackId,
    keyframes: [
      { t: 0, pose: 'standing', place: at(600) },
      { t: start, pose: 'standing', place: at(600) },
      { t: start + durationSec, pose: 'lying', place: at(700) },
      { t: until, pose: 'lying', place: at(700) },
    ],
  };
}

describe('fall rule', () => {
  it('reports a fast fall to the floor once, from its onset, after minDownSec down', () => {
    const events = run([fallScript(2, 0.6, 6)], { durationSec: 6, fps: 15 });
    const [fall, ...more] = falls(events);
    expect(more).toHaveLength(0);
    expect(fall).toBeDefined();
    expect(fall!.trackId).toBe(1);
    // Onset: the last frame at full height, within a frame or two of t = 2 s (15 fps: seq 30).
    expect(fall!.seq).toBeGreaterThanOrEqual(29);
    expect(fall!.seq).toBeLessThanOrEqual(32);
    expect(fall!.ptsMs).toBeCloseTo((fall!.seq * 1000) / 15, 6);
    // Decisive frame: the drop crosses 0.4 H part-way through the fall, then 1 s down.
    const alertSec = fall!.atSeq / 15;
    expect(alertSec).toBeGreaterThan(2 + 1);
    expect(alertSec).toBeLessThan(2 + 0.6 + 1.4);
    expect(fall!.snapshot).toBe(true);
    expect(fall!.confidence).toBeGreaterThan(0.5);
    expect(fall!.attributes.drop as number).toBeGreaterThan(0.6);
    expect(fall!.id).toBe(`cam:fall:1:${fall!.seq}`);
  });

  it('reports recovered when the person is up again for recoverSec, and can fall again after that', () => {
    const script: TrackScript = {
      trackId: 3,
      keyframes: [
        ...fallScript(1, 0.5, 5).keyframes,
        { t: 6, pose: 'standing', place: at(700) },
        { t: 9, pose: 'standing', place: at(700) },
        { t: 9.5, pose: 'lying', place: at(800) },
        { t: 12, pose: 'lying', place: at(800) },
      ],
    };
    const events = run([script], { durationSec: 12, fps: 15 }).filter((event) => event.type === 'fall' || event.type === 'recovered');
    expect(events.map((event) => event.type)).toEqual(['fall', 'recovered', 'fall']);
    const recovered = events[1]!;
    // Up from the moment the shoulders are back within recoverDrop; reported recoverSec (1.5 s) later.
    expect(recovered.seq / 15).toBeGreaterThan(5);
    expect(recovered.seq / 15).toBeLessThan(6.1);
    expect(recovered.atSeq / 15).toBeCloseTo(recovered.seq / 15 + 1.5, 0);
  });

  it('does not fire on squats, even deep and repeated', () => {
    const keyframes: Keyframe[] = [{ t: 0, pose: 'standing', place: at(600) }];
    for (let rep = 0; rep < 4; rep++) {
      const t = 1 + rep * 2;
      keyframes.push({ t, pose: 'standing', place: at(600) }, { t: t + 0.5, pose: 'squat', place: at(600) }, { t: t + 0.9, pose: 'squat', place: at(600) }, { t: t + 1.4, pose: 'standing', place: at(600) });
    }
    expect(falls(run([{ trackId: 1, keyframes }], { durationSec: 10 }))).toEqual([]);
  });

  it('does not fire on a deep squat held for seconds (crouching)', () => {
    const keyframes: Keyframe[] = [
      { t: 0, pose: 'standing', place: at(600) },
      { t: 1, pose: 'standing', place: at(600) },
      { t: 1.4, pose: 'squat', place: at(600) },
      { t: 8, pose: 'squat', place: at(600) },
    ];
    const events = run([{ trackId: 1, keyframes }], { durationSec: 8 });
    expect(falls(events)).toEqual([]);
    expect(events.filter((event) => event.type === 'posture').map((event) => event.attributes.posture)).toEqual(['standing', 'crouching']);
  });

  it('does not fire on sitting down fast on a chair, nor on bending to the floor from it', () => {
    const keyframes: Keyframe[] = [
      { t: 0, pose: 'standing', place: at(600) },
      { t: 1, pose: 'standing', place: at(600) },
      { t: 1.5, pose: 'sittingChair', place: at(600) },
      { t: 3, pose: 'sittingChair', place: at(600) },
      { t: 3.6, pose: 'bentSeated', place: at(600) },
      { t: 6, pose: 'bentSeated', place: at(600) },
      { t: 6.6, pose: 'sittingChair', place: at(600) },
      { t: 8, pose: 'sittingChair', place: at(600) },
    ];
    const events = run([{ trackId: 1, keyframes }], { durationSec: 8 });
    expect(falls(events)).toEqual([]);
    expect(events.filter((event) => event.type === 'posture').map((event) => event.attributes.posture)).toEqual(['standing', 'sitting']);
  });

  it('does not fire on bending to the floor while standing', () => {
    const keyframes: Keyframe[] = [
      { t: 0, pose: 'standing', place: at(600) },
      { t: 1, pose: 'standing', place: at(600) },
      { t: 1.5, pose: 'bentStanding', place: at(600) },
      { t: 5, pose: 'bentStanding', place: at(600) },
    ];
    expect(falls(run([{ trackId: 1, keyframes }], { durationSec: 5 }))).toEqual([]);
  });

  it('does not fire on sitting down on the floor', () => {
    const keyframes: Keyframe[] = [
      { t: 0, pose: 'standing', place: at(600) },
      { t: 1, pose: 'standing', place: at(600) },
      { t: 1.8, pose: 'squat', place: at(600) },
      { t: 2.6, pose: 'sittingFloor', place: at(600) },
      { t: 8, pose: 'sittingFloor', place: at(600) },
    ];
    const events = run([{ trackId: 1, keyframes }], { durationSec: 8 });
    expect(falls(events)).toEqual([]);
    expect(events.filter((event) => event.type === 'posture').at(-1)?.attributes.posture).toBe('sitting');
  });

  it('does not fire on lying down slowly on a bed (sitting on its edge first)', () => {
    const bed = FLOOR - 0.25 * H;
    const keyframes: Keyframe[] = [
      { t: 0, pose: 'standing', place: at(600) },
      { t: 1, pose: 'standing', place: at(600) },
      { t: 2.5, pose: 'sittingChair', place: at(600) },
      { t: 4, pose: 'sittingChair', place: at(600) },
      { t: 6.5, pose: 'lying', place: at(750, bed) },
      { t: 10, pose: 'lying', place: at(750, bed) },
    ];
    const events = run([{ trackId: 1, keyframes }], { durationSec: 10 });
    expect(falls(events)).toEqual([]);
    expect(events.filter((event) => event.type === 'posture').at(-1)?.attributes.posture).toBe('lying');
  });

  it('fires on a fall onto a bed, unless a bed zone suppresses falls there', () => {
    const bed = FLOOR - 0.25 * H;
    const script: TrackScript = {
      trackId: 1,
      keyframes: [
        { t: 0, pose: 'standing', place: at(600) },
        { t: 1, pose: 'standing', place: at(600) },
        { t: 1.5, pose: 'lying', place: at(800, bed) },
        { t: 5, pose: 'lying', place: at(800, bed) },
      ],
    };
    expect(falls(run([script], { durationSec: 5 }))).toHaveLength(1);
    // The bed, in normalised coordinates: where the lying person's feet are (800/1280, 550/720).
    const zones = [{ id: 'bed', polygon: [[0.55, 0.6], [0.95, 0.6], [0.95, 0.85], [0.55, 0.85]] as Array<[number, number]>, suppress: ['fall' as const] }];
    expect(falls(run([script], { durationSec: 5 }, { zones }))).toEqual([]);
    // A zone that does not suppress falls changes nothing.
    expect(falls(run([script], { durationSec: 5 }, { zones: [{ ...zones[0]!, suppress: [] }] }))).toHaveLength(1);
  });

  it('does not take a person leaving through the bottom of the frame, or walking at the camera, for a fall', () => {
    // Going down stairs out of view, stopping with only head and shoulders in the frame.
    const leaving: TrackScript = {
      trackId: 1,
      keyframes: [
        { t: 0, pose: 'standing', place: at(600, 600) },
        { t: 1, pose: 'standing', place: at(600, 600) },
        { t: 2, pose: 'standing', place: at(600, 1000) },
        { t: 4, pose: 'standing', place: at(600, 1000) },
      ],
    };
    // Seen by a camera above head height: walking closer, the whole person moves down the frame and grows.
    const approaching: TrackScript = {
      trackId: 2,
      keyframes: [
        { t: 0, pose: 'standing', place: at(300, 300, 150) },
        { t: 2, pose: 'standing', place: at(300, 1000, 600) },
        { t: 4, pose: 'standing', place: at(300, 1000, 600) },
      ],
    };
    const events = run([leaving, approaching], { durationSec: 4 });
    expect(falls(events)).toEqual([]);
  });

  it('ignores low-confidence keypoints and jitter: a standing person with noisy keypoints never falls', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const frames = sceneFrames([{ trackId: 1, keyframes: [{ t: 0, pose: 'standing', place: at(600) }, { t: 20, pose: 'standing', place: at(600) }] }], { durationSec: 20 });
    for (const frame of frames) {
      for (const person of frame.persons) {
        person.keypoints = person.keypoints.map(([x, y, c]) => {
          const dropped = random() < 0.2;
          return [x + (random() - 0.5) * 0.04 * H, y + (random() - 0.5) * 0.04 * H, dropped ? random() * 0.3 : c];
        });
      }
    }
    const events = runFrames(new EventEngine('cam', eventRulesSchema.parse({})), frames);
    expect(falls(events)).toEqual([]);
    expect(events.filter((event) => event.type === 'posture').map((event) => event.attributes.posture)).toEqual(['standing']);
  });

  it('still confirms a fall when the lying person is detected only now and then', () => {
    const frames = sceneFrames([fallScript(1, 0.6, 6)], { durationSec: 6 }).map((frame, n) => (frame.seq > 30 && n % 4 !== 0 ? { ...frame, persons: [] } : frame));
    expect(falls(runFrames(new EventEngine('cam', eventRulesSchema.parse({})), frames))).toHaveLength(1);
  });

  it('takes weak untracked detections where a falling person was last seen as that person', () => {
    // The tracker loses the person on the floor (ByteTrack does not re-attach weak boxes after a gap).
    const untrack = (frames: ReturnType<typeof sceneFrames>, offsetX: number) =>
      frames.map((frame) =>
        frame.seq <= 22 ? frame : { ...frame, persons: frame.seq % 3 === 0 ? [] : frame.persons.map(({ trackId: _id, ...person }) => ({ ...person, score: 0.3, box: person.box.map((v, i) => (i % 2 === 0 ? v + offsetX : v)) as typeof person.box })) },
      );
    const engine = () => new EventEngine('cam', eventRulesSchema.parse({}));
    const lost = untrack(sceneFrames([fallScript(1, 0.6, 6)], { durationSec: 6 }), 0);
    expect(falls(runFrames(engine(), lost))).toHaveLength(1);
    // A weak box somewhere else is not the fallen person.
    const elsewhere = untrack(sceneFrames([fallScript(1, 0.6, 6)], { durationSec: 6 }), 500);
    expect(falls(runFrames(engine(), elsewhere))).toEqual([]);
  });

  it('times itself on media time: a lossless file processed 5x faster than real time gives the same fall', () => {
    const realTime = falls(run([fallScript(2, 0.6, 6)], { durationSec: 6 }));
    const fast = falls(run([fallScript(2, 0.6, 6)], { durationSec: 6, captureTs: (_n, mediaMs) => 1_700_000_000_000 + mediaMs / 5 }));
    expect(fast.map((event) => [event.seq, event.atSeq])).toEqual(realTime.map((event) => [event.seq, event.atSeq]));
    // Without a media time the capture time is all there is: 5x compressed, so it needs 5x more frames down.
    const noPts = falls(run([fallScript(2, 0.6, 6)], { durationSec: 6, noPts: true, captureTs: (_n, mediaMs) => 1_700_000_000_000 + mediaMs / 5 }));
    expect(noPts.length === 0 || noPts[0]!.atSeq > realTime[0]!.atSeq).toBe(true);
  });

  it('reports a fall once when the tracker splits the track mid-fall', () => {
    const before: TrackScript = { ...fallScript(2, 0.6, 6, 1), until: 2.3 };
    const after: TrackScript = { ...fallScript(2, 0.6, 6, 2), from: 2.3 };
    const events = falls(run([before, after], { durationSec: 6 }));
    expect(events).toHaveLength(1);
    expect(events[0]!.trackId).toBe(2);
    // A duplicate track of the same falling person (both boxes kept) does not double the alert either.
    const duplicate: TrackScript = { ...fallScript(2, 0.6, 6, 5), from: 2.2 };
    expect(falls(run([fallScript(2, 0.6, 6, 4), duplicate], { durationSec: 6 }))).toHaveLength(1);
  });

  it('still reports the recovery, once, when the person lying comes back with a new track id', () => {
    const fallen: TrackScript = { ...fallScript(1, 0.5, 9, 1), until: 4 };
    const back: TrackScript = {
      trackId: 2,
      from: 6,
      keyframes: [...fallScript(1, 0.5, 7, 2).keyframes, { t: 7.5, pose: 'standing', place: at(700) }, { t: 10, pose: 'standing', place: at(700) }],
    };
    const events = run([fallen, back], { durationSec: 10 }).filter((event) => event.type === 'fall' || event.type === 'recovered');
    // The recovery names the track that fell (a Home Assistant sensor pairs them by track), and the new id.
    expect(events.map((event) => [event.type, event.trackId, event.attributes.currentTrackId])).toEqual([['fall', 1, undefined], ['recovered', 1, 2]]);
  });

  it('can be disabled', () => {
    expect(falls(run([fallScript(2, 0.6, 6)], { durationSec: 6 }, { fall: { enabled: false } }))).toEqual([]);
  });
});
