import { describe, expect, it } from 'vitest';
import { eventRulesSchema } from '../../../../pipeline/events/config.js';
import { EventEngine } from '../../../../pipeline/events/engine.js';
import { poseEventSchema, type PoseEvent } from '../../../../pipeline/wire/v1.js';
import { runFrames, sceneFrames, type TrackScript } from '../../../support/stick-figure.js';

const rules = eventRulesSchema.parse({
  zones: [{ id: 'mat', polygon: [[0.3, 0.6], [0.7, 0.6], [0.7, 1], [0.3, 1]], dwellSec: 2 }],
  lines: [{ id: 'door', a: [0.8, 0.1], b: [0.8, 0.95] }],
  handsRaised: { minDurationMs: 500 },
});
const place = (x: number) => ({ x, floorY: 650, height: 380 });

/** One person walks in, raises hands, falls, gets up and walks off the mat; another walks across the door line and back. */
const scripts: TrackScript[] = [
  {
    trackId: 1,
    keyframes: [
      { t: 0, pose: 'standing', place: place(200) },
      { t: 2, pose: 'standing', place: place(600) },
      { t: 2.1, pose: 'armsUp', place: place(600) },
      { t: 3, pose: 'armsUp', place: place(600) },
      { t: 3.1, pose: 'standing', place: place(600) },
      { t: 4, pose: 'standing', place: place(600) },
      { t: 4.6, pose: 'lying', place: place(700) },
      { t: 7, pose: 'lying', place: place(700) },
      { t: 8, pose: 'standing', place: place(700) },
      { t: 10.5, pose: 'standing', place: place(700) },
      { t: 11.5, pose: 'standing', place: place(1000) },
      { t: 12, pose: 'standing', place: place(1000) },
    ],
  },
  { trackId: 2, keyframes: [{ t: 0.5, pose: 'standing', place: place(1200) }, { t: 4, pose: 'standing', place: place(900) }, { t: 8, pose: 'standing', place: place(1200) }] },
];
const frames = sceneFrames(scripts, { durationSec: 12, fps: 10, streamId: 'hall' });

describe('engine state', () => {
  const reference = runFrames(new EventEngine('hall', rules), frames);

  it('the scenario exercises every rule, and every event is valid on the wire', () => {
    const types = new Set(reference.map((event) => event.type));
    for (const type of ['fall', 'recovered', 'posture', 'hands_raised', 'zone_enter', 'zone_exit', 'dwell', 'occupancy', 'line_cross']) expect(types).toContain(type);
    for (const event of reference) expect(poseEventSchema.parse(event)).toEqual(event);
    expect(new Set(reference.map((event) => event.id)).size).toBe(reference.length);
  });

  it('a state saved as JSON after any frame and restored continues with exactly the same events', () => {
    for (let cut = 0; cut < frames.length - 1; cut++) {
      const first = new EventEngine('hall', rules);
      const before: PoseEvent[] = runFrames(first, frames.slice(0, cut + 1));
      const stored = JSON.parse(JSON.stringify(first.snapshot())) as unknown;
      const state = EventEngine.parseState(stored);
      expect(state).toBeDefined();
      const second = new EventEngine('hall', rules, state);
      // The new owner may see the last frames again (redelivered before their acknowledgement): ignored.
      const after = runFrames(second, frames.slice(Math.max(0, cut - 2)));
      expect([...before, ...after], `cut after frame ${cut}`).toEqual(reference);
    }
  });

  it('keeps the state compact', () => {
    const engine = new EventEngine('hall', rules);
    let largest = 0;
    for (const frame of frames) {
      engine.process(frame);
      largest = Math.max(largest, JSON.stringify(engine.snapshot()).length);
    }
    // Two tracks, 2 s of fall history each at 10 samples/s.
    expect(largest).toBeLessThan(16_000);
  });

  it('rejects a state it cannot trust', () => {
    const good = JSON.parse(JSON.stringify(new EventEngine('hall', rules).snapshot())) as Record<string, unknown>;
    expect(EventEngine.parseState(good)).toBeDefined();
    expect(EventEngine.parseState({ ...good, v: 2 })).toBeUndefined();
    expect(EventEngine.parseState({ ...good, tracks: [{ id: 1 }] })).toBeUndefined();
    expect(EventEngine.parseState('garbage')).toBeUndefined();
  });

  it('drops memberships and counts of zones and lines removed from the rules', () => {
    const engine = new EventEngine('hall', rules);
    runFrames(engine, frames.slice(0, 60));
    expect(Object.keys(engine.lineCounts)).toEqual(['door']);
    engine.updateRules(eventRulesSchema.parse({}));
    expect(engine.lineCounts).toEqual({});
    expect(engine.occupancy).toEqual({});
    expect(engine.snapshot().tracks.every((track) => Object.keys(track.zones).length === 0 && Object.keys(track.lines).length === 0)).toBe(true);
  });

  it('keeps its clock moving forward when media time restarts (a looping file)', () => {
    const engine = new EventEngine('hall', rules);
    runFrames(engine, frames);
    const clock = engine.snapshot().clockMs;
    const looped = frames.slice(0, 20).map((frame, index) => ({ ...frame, seq: frames.length + index }));
    runFrames(engine, looped);
    expect(engine.snapshot().clockMs).toBeGreaterThan(clock);
    expect(engine.snapshot().clockMs).toBeLessThan(clock + 2100 + 20 * 100);
  });
});
