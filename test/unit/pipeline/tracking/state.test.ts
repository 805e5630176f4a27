import { describe, expect, it } from 'vitest';
import { trackerConfig } from '../../../../pipeline/tracking/config.js';
import { PoseTracker, type TrackerInput } from '../../../../pipeline/tracking/tracker.js';
import { gaussian, jitter, person, seededRandom } from './synthetic.js';

/** Four people: two crossing (one hidden behind the other for a while), one entering late, one leaving. */
function scene(frameCount: number): TrackerInput[][] {
  const noise = gaussian(seededRandom(5));
  return Array.from({ length: frameCount }, (_, i) => {
    const t = i / 25;
    const front = person({ cx: 100 + 140 * t, cy: 240, h: 220 });
    const back = person({ cx: 520 - 110 * t, cy: 225, h: 170 });
    const hidden = Math.abs(100 + 140 * t - (520 - 110 * t)) < 60;
    const persons = [front, ...(hidden ? [] : [back])];
    if (i >= 30) persons.push(person({ cx: 600 - 20 * t, cy: 300, h: 150, score: 0.7 }));
    if (i < 50) persons.push(person({ cx: 320, cy: 200, h: 120, score: i % 7 === 0 ? 0.35 : 0.8 }));
    return persons.map((p) => jitter(p, 1.5, noise));
  });
}

describe('tracker state: serialise and restore', () => {
  for (const smoothing of [false, true]) {
    it(`continuing from a restored state gives exactly what continuing without the hand-over gives (smoothing ${smoothing})`, () => {
      const config = trackerConfig({ smoothing: { enabled: smoothing } });
      const frames = scene(120);
      for (const handOver of [1, 17, 33, 48, 61, 90]) {
        const original = new PoseTracker(config);
        frames.slice(0, handOver).forEach((persons, i) => original.update(i * 40, persons));
        const restored = PoseTracker.restore(config, JSON.parse(JSON.stringify(original.toJSON())));
        frames.slice(handOver).forEach((persons, i) => {
          const t = (handOver + i) * 40;
          expect(restored.update(t, persons)).toEqual(original.update(t, persons));
        });
        expect(restored.toJSON()).toEqual(original.toJSON());
      }
    });
  }

  it('is compact: a few hundred bytes per track', () => {
    const tracker = new PoseTracker(trackerConfig());
    scene(40).forEach((persons, i) => tracker.update(i * 40, persons));
    const json = JSON.stringify(tracker.toJSON());
    expect(tracker.trackCount).toBeGreaterThanOrEqual(3);
    expect(json.length / tracker.trackCount).toBeLessThan(2500);
  });

  it('refuses a malformed state with an error that names the field', () => {
    const config = trackerConfig();
    const good = (() => {
      const tracker = new PoseTracker(config);
      scene(5).forEach((persons, i) => tracker.update(i * 40, persons));
      return JSON.parse(JSON.stringify(tracker.toJSON())) as { tracks: Array<{ kalman: number[] }>; nextId: number };
    })();
    expect(() => PoseTracker.restore(config, { ...good, v: 2 })).toThrow(/v/);
    expect(() => PoseTracker.restore(config, { ...good, nextId: 0 })).toThrow(/nextId/);
    const shortKalman = structuredClone(good);
    shortKalman.tracks[0]!.kalman = [1, 2, 3];
    expect(() => PoseTracker.restore(config, shortKalman)).toThrow(/kalman/);
    expect(() => PoseTracker.restore(config, 'not a state')).toThrow();
  });
});

describe('tracker: keypoint smoothing', () => {
  const truth = person({ cx: 300, cy: 240, h: 200 });

  function stillScene(smoothing: boolean) {
    const tracker = new PoseTracker(trackerConfig({ smoothing: { enabled: smoothing } }));
    const noise = gaussian(seededRandom(9));
    const inputs = Array.from({ length: 90 }, () => {
      const p = jitter(truth, 0, noise);
      return { ...p, keypoints: p.keypoints.map(([x, y, c]) => [x + 0.3 * noise(), y + 0.3 * noise(), c] as [number, number, number]) };
    });
    const copies = structuredClone(inputs);
    const out = inputs.map((p, i) => tracker.update((i * 1000) / 30, [p])[0]!);
    return { inputs, copies, out };
  }

  function rmsError(keypoints: ReadonlyArray<readonly number[]>): number {
    let sum = 0;
    keypoints.forEach(([x, y], k) => (sum += (x! - truth.keypoints[k]![0]) ** 2 + (y! - truth.keypoints[k]![1]) ** 2));
    return Math.sqrt(sum / keypoints.length);
  }

  it('publishes smoothed keypoints closer to the truth than the raw ones, leaving the raw ones untouched', () => {
    const { inputs, copies, out } = stillScene(true);
    expect(inputs).toEqual(copies);
    let raw = 0;
    let smoothed = 0;
    for (let i = 30; i < 90; i++) {
      raw += rmsError(inputs[i]!.keypoints);
      smoothed += rmsError(out[i]!.smoothedKeypoints!);
      expect(out[i]!.smoothedKeypoints!.map((k) => k[2])).toEqual(inputs[i]!.keypoints.map((k) => k[2]));
    }
    expect(smoothed).toBeLessThan(0.7 * raw);
  });

  it('publishes no smoothed keypoints when smoothing is off', () => {
    const { out } = stillScene(false);
    expect(out.every((a) => a.smoothedKeypoints === undefined && a.trackId === 1)).toBe(true);
  });
});
