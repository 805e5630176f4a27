import { describe, expect, it } from 'vitest';
import { eventRulesSchema, type EventRulesInput } from '../../../../pipeline/events/config.js';
import { EventEngine } from '../../../../pipeline/events/engine.js';
import { pointInPolygon, segmentsIntersect, signedDistance } from '../../../../pipeline/events/geometry.js';
import type { PoseEvent } from '../../../../pipeline/wire/v1.js';
import { runFrames, sceneFrames, type TrackScript } from '../../../support/stick-figure.js';

const FLOOR = 650; // feet (ankles) at y 634 of 720: 0.88 normalised
const walker = (trackId: number, points: Array<[t: number, x: number]>, extra: Partial<TrackScript> = {}): TrackScript => ({
  trackId,
  keyframes: points.map(([t, x]) => ({ t, pose: 'standing' as const, place: { x, floorY: FLOOR, height: 300 } })),
  ...extra,
});

function run(scripts: TrackScript[], rules: EventRulesInput, durationSec: number, fps = 15): { events: PoseEvent[]; engine: EventEngine } {
  const engine = new EventEngine('door', eventRulesSchema.parse(rules));
  return { events: runFrames(engine, sceneFrames(scripts, { durationSec, fps })), engine };
}

const square: Array<[number, number]> = [[0.4, 0.7], [0.6, 0.7], [0.6, 1], [0.4, 1]];
const of = (events: PoseEvent[], ...types: string[]) => events.filter((event) => types.includes(event.type));

describe('geometry', () => {
  it('point in polygon, convex and concave', () => {
    expect(pointInPolygon([0.5, 0.8], square)).toBe(true);
    expect(pointInPolygon([0.3, 0.8], square)).toBe(false);
    const ell: Array<[number, number]> = [[0, 0], [1, 0], [1, 0.4], [0.4, 0.4], [0.4, 1], [0, 1]];
    expect(pointInPolygon([0.2, 0.8], ell)).toBe(true);
    expect(pointInPolygon([0.8, 0.8], ell)).toBe(false);
  });

  it('left of a -> b is negative, as seen on the displayed frame (y down)', () => {
    // A line pointing right: "left" (looking from a to b) is above it on screen.
    expect(signedDistance([0.5, 0.3], [0, 0.5], [1, 0.5])).toBeCloseTo(-0.2);
    expect(signedDistance([0.5, 0.7], [0, 0.5], [1, 0.5])).toBeCloseTo(0.2);
    expect(segmentsIntersect([0.5, 0.3], [0.5, 0.7], [0, 0.5], [1, 0.5])).toBe(true);
    expect(segmentsIntersect([1.5, 0.3], [1.5, 0.7], [0, 0.5], [1, 0.5])).toBe(false);
  });
});

describe('zones', () => {
  it('enter, exit and occupancy as a walker crosses the zone, starting where the change began', () => {
    // Walks from x 100 to 1200 px in 6 s: anchor x/1280 inside 0.4..0.6 from ~2.6 s to ~3.6 s.
    const { events } = run([walker(1, [[0, 100], [6, 1200]])], { zones: [{ id: 'mat', polygon: square, debounceSec: 0.3 }] }, 6);
    const zoneEvents = of(events, 'zone_enter', 'zone_exit', 'occupancy');
    expect(zoneEvents.map((event) => event.type)).toEqual(['zone_enter', 'occupancy', 'zone_exit', 'occupancy']);
    const [enter, up, exit, down] = zoneEvents;
    expect(enter!.zone).toBe('mat');
    expect(enter!.trackId).toBe(1);
    expect((enter!.seq / 15) * (1100 / 6) + 100).toBeGreaterThanOrEqual(0.4 * 1280 - 5);
    expect((enter!.seq / 15) * (1100 / 6) + 100).toBeLessThanOrEqual(0.4 * 1280 + 20);
    expect(enter!.atSeq - enter!.seq).toBeGreaterThanOrEqual(4); // debounce 0.3 s at 15 fps
    expect(enter!.id).toBe(`door:zone_enter:1:${enter!.seq}:mat`);
    expect(up!.trackId).toBeUndefined();
    expect(up!.attributes).toEqual({ count: 1, previous: 0 });
    expect(up!.id).toBe(`door:occupancy:-:${up!.seq}:mat`);
    expect(exit!.attributes.durationSec as number).toBeCloseTo((0.2 * 1280) / (1100 / 6), 0);
    expect(down!.attributes).toEqual({ count: 0, previous: 1 });
  });

  it('debounces jitter on the edge and reports dwell once per stay', () => {
    // Stands on the left edge, swaying 10 px either side every 0.2 s (faster than the 0.3 s debounce).
    const points: Array<[number, number]> = [];
    for (let t = 0; t <= 4; t += 0.1) points.push([t, 0.4 * 1280 + (Math.round(t * 10) % 2 === 0 ? 10 : -10)]);
    points.push([4.5, 640], [10, 640]);
    const { events } = run([walker(4, points)], { zones: [{ id: 'mat', polygon: square, dwellSec: 3 }] }, 10);
    expect(of(events, 'zone_enter', 'zone_exit').map((event) => event.type)).toEqual(['zone_enter']);
    const dwell = of(events, 'dwell');
    expect(dwell).toHaveLength(1);
    expect(dwell[0]!.seq).toBe(of(events, 'zone_enter')[0]!.seq);
    expect(dwell[0]!.attributes.durationSec as number).toBeGreaterThanOrEqual(3);
  });

  it('counts several people, and exits a track that is lost inside after trackExpirySec', () => {
    const a = walker(1, [[0, 640], [8, 640]]);
    const b = walker(2, [[0, 100], [2, 640], [3, 640]], { until: 3 });
    const { events, engine } = run([a, b], { trackExpirySec: 2, zones: [{ id: 'mat', polygon: square }] }, 8);
    expect(of(events, 'occupancy').map((event) => event.attributes.count)).toEqual([1, 2, 1]);
    const lost = of(events, 'zone_exit');
    expect(lost).toHaveLength(1);
    expect(lost[0]!.trackId).toBe(2);
    expect(lost[0]!.attributes.lost).toBe(true);
    expect(lost[0]!.atSeq / 15).toBeGreaterThan(5);
    expect(engine.occupancy).toEqual({ mat: 1 });
  });

  it('falls back to the bottom of the box when the ankles are not visible', () => {
    const frames = sceneFrames([walker(1, [[0, 640], [2, 640]])], { durationSec: 2 });
    for (const frame of frames) for (const person of frame.persons) person.keypoints = person.keypoints.map((k, i) => (i >= 15 ? [k[0], k[1], 0.01] : k));
    const events = runFrames(new EventEngine('door', eventRulesSchema.parse({ zones: [{ id: 'mat', polygon: square }] })), frames);
    expect(of(events, 'zone_enter')).toHaveLength(1);
  });
});

describe('lines', () => {
  const vertical = { id: 'door', a: [0.5, 0.1] as [number, number], b: [0.5, 0.95] as [number, number] };

  it('counts crossings per direction, relative to a -> b', () => {
    // Looking from a (top) towards b (bottom), +x is on the left: walking towards +x goes right to left.
    const { events, engine } = run([walker(1, [[0, 200], [3, 1000], [6, 200], [9, 1000]])], { lines: [vertical] }, 9);
    const crossings = of(events, 'line_cross');
    expect(crossings.map((event) => event.direction)).toEqual(['right_to_left', 'left_to_right', 'right_to_left']);
    expect(crossings.at(-1)!.attributes).toEqual({ count: 2, leftToRight: 1, rightToLeft: 2 });
    expect(crossings[0]!.line).toBe('door');
    expect(crossings[0]!.id).toBe(`door:line_cross:1:${crossings[0]!.seq}:door`);
    expect(engine.lineCounts).toEqual({ door: { left_to_right: 1, right_to_left: 2 } });
    // The same walk against the reversed line.
    const reversed = run([walker(1, [[0, 200], [3, 1000]])], { lines: [{ ...vertical, a: vertical.b, b: vertical.a }] }, 3);
    expect(of(reversed.events, 'line_cross').map((event) => event.direction)).toEqual(['left_to_right']);
  });

  it('does not count jitter within the band or walking around the end of the line', () => {
    const points: Array<[number, number]> = [];
    for (let t = 0; t <= 5; t += 0.1) points.push([t, 640 + (Math.round(t * 10) % 2 === 0 ? 6 : -6)]);
    expect(of(run([walker(1, points)], { lines: [{ ...vertical, band: 0.01 }] }, 5).events, 'line_cross')).toEqual([]);
    const short = { id: 'gate', a: [0.5, 0.1] as [number, number], b: [0.5, 0.5] as [number, number] };
    expect(of(run([walker(1, [[0, 200], [3, 1000]])], { lines: [short] }, 3).events, 'line_cross')).toEqual([]);
  });

  it('config rejects a degenerate line, duplicate ids and unknown keys', () => {
    expect(() => eventRulesSchema.parse({ lines: [{ id: 'x', a: [0.5, 0.5], b: [0.5, 0.5] }] })).toThrow(/a and b must differ/);
    expect(() => eventRulesSchema.parse({ zones: [{ id: 'z', polygon: square }, { id: 'z', polygon: square }] })).toThrow(/duplicate id/);
    expect(() => eventRulesSchema.parse({ zones: [{ id: 'z', polygon: square, supress: ['fall'] }] })).toThrow();
    expect(() => eventRulesSchema.parse({ zones: [{ id: 'z', polygon: [[0, 0], [2, 0], [0, 1]] }] })).toThrow();
  });
});

describe('end of stream', () => {
  it('exits everyone from their zones, brings occupancy to 0 and starts afresh', () => {
    const engine = new EventEngine('door', eventRulesSchema.parse({ zones: [{ id: 'mat', polygon: square }] }));
    const frames = sceneFrames([walker(1, [[0, 640], [2, 640]]), walker(2, [[0, 200], [2, 200]])], { durationSec: 2 });
    runFrames(engine, frames);
    expect(engine.occupancy).toEqual({ mat: 1 });
    const ended = engine.finish(123);
    expect(ended.map((event) => [event.type, event.trackId, event.attributes])).toEqual([
      ['zone_exit', 1, { durationSec: expect.any(Number), ended: true }],
      ['occupancy', undefined, { count: 0, previous: 1 }],
    ]);
    expect(ended[0]!.atSeq).toBe(frames.at(-1)!.seq);
    expect(ended.every((event) => event.publishedTs === 123)).toBe(true);
    expect(engine.snapshot().tracks).toEqual([]);
    expect(engine.finish(124)).toEqual([]);
    // The next run starts at seq 0 again.
    expect(runFrames(engine, sceneFrames([walker(1, [[0, 640], [1, 640]])], { durationSec: 1 })).some((event) => event.type === 'zone_enter')).toBe(true);
  });
});
