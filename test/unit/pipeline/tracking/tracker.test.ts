import { describe, expect, it } from 'vitest';
import { trackerConfig } from '../../../../pipeline/tracking/config.js';
import { PoseTracker, type TrackerInput } from '../../../../pipeline/tracking/tracker.js';
import type { Person } from '../../../../pipeline/wire/v1.js';
import { gaussian, ids, jitter, person, run, scaled, seededRandom, withBox } from './synthetic.js';

const config = trackerConfig();

/** A walker: centre x at time t (s) = x0 + vx·t. */
function walker(x0: number, vx: number, extra: Partial<Parameters<typeof person>[0]> = {}) {
  return (t: number): Person => person({ cx: x0 + vx * t, cy: 240, h: 200, ...extra });
}

function frames(count: number, fps: number, scene: (t: number, index: number) => TrackerInput[]): TrackerInput[][] {
  return Array.from({ length: count }, (_, index) => scene(index / fps, index));
}

describe('PoseTracker: association', () => {
  it('gives each person an id at once on the first frame and keeps it while they walk', () => {
    const noise = gaussian(seededRandom(1));
    const people = [walker(100, 40), walker(300, -30), walker(500, 20, { h: 150 })];
    const out = run(new PoseTracker(config), frames(60, 30, (t) => people.map((p) => jitter(p(t), 1.5, noise))));
    for (const annotations of out) expect(ids(annotations)).toEqual([1, 2, 3]);
    expect(out[59]![0]!.trackAgeMs).toBeCloseTo((59 * 1000) / 30, 6);
  });

  it('uses the pose where the boxes mislead: swapped-looking boxes, keypoints in place', () => {
    // Two people side by side, 50 px apart, still. Then the detector's boxes drift towards each other while
    // the keypoints stay on the people: by IoU alone each box now overlaps the other track more.
    const a = person({ cx: 150, cy: 240, h: 250, w: 100 });
    const b = person({ cx: 200, cy: 240, h: 250, w: 100 });
    const still = Array.from({ length: 10 }, () => [a, b]);
    const misleading = [withBox(a, [130, 115, 230, 365]), withBox(b, [120, 115, 220, 365])];

    const withPose = new PoseTracker(config);
    run(withPose, still);
    expect(ids(withPose.update(10_000 / 30, misleading))).toEqual([1, 2]);

    const boxesOnly = new PoseTracker(trackerConfig({ poseWeight: 0 }));
    run(boxesOnly, still);
    expect(ids(boxesOnly.update(10_000 / 30, misleading))).toEqual([2, 1]);
  });

  it('keeps ids through a crossing where both stay visible', () => {
    const left = walker(100, 150);
    const right = walker(500, -150, { h: 190 });
    const out = run(new PoseTracker(config), frames(90, 30, (t) => [left(t), right(t)]));
    for (const annotations of out) expect(ids(annotations)).toEqual([1, 2]);
  });

  it('is scale-free: the same scene at 3x resolution gives the same ids', () => {
    const noise = gaussian(seededRandom(3));
    const people = [walker(100, 150), walker(500, -150, { h: 170 }), walker(300, 10, { h: 120 })];
    const scene = frames(90, 30, (t) => people.map((p) => jitter(p(t), 2, noise)));
    const small = run(new PoseTracker(config), scene).map(ids);
    const large = run(new PoseTracker(config), scene.map((persons) => persons.map((p) => scaled(p as Person, 3)))).map(ids);
    expect(large).toEqual(small);
  });
});

describe('PoseTracker: births', () => {
  it('confirms a new person only in their second frame, and a one-frame ghost takes no id', () => {
    const a = walker(100, 30);
    const b = walker(400, -30);
    const ghost = person({ cx: 600, cy: 100, h: 120 });
    const c = walker(250, 0, { h: 140 });
    const out = run(
      new PoseTracker(config),
      frames(30, 30, (t, i) => [a(t), ...(i >= 5 ? [b(t)] : []), ...(i === 10 ? [ghost] : []), ...(i >= 20 ? [c(t)] : [])]),
    );
    expect(out[5]![1]).toMatchObject({ trackState: 'tentative' });
    expect(out[5]![1]!.trackId).toBeUndefined();
    expect(ids(out[6]!)).toEqual([1, 2]);
    expect(out[10]![2]).toMatchObject({ trackState: 'tentative' });
    expect(out[20]![2]!.trackId).toBeUndefined();
    expect(ids(out[21]!)).toEqual([1, 2, 3]); // the ghost never consumed id 3
  });

  it('starts tracks only from confident detections (newTrackScore)', () => {
    const out = run(new PoseTracker(config), frames(10, 30, () => [person({ cx: 100, cy: 200, h: 200, score: 0.55 }), person({ cx: 400, cy: 200, h: 200, score: 0.3 })]));
    for (const annotations of out) expect(annotations.map((a) => a.trackState)).toEqual(['untracked', 'untracked']);
  });
});

describe('PoseTracker: low scores, occlusion, re-identification', () => {
  it('extends a track with low-score detections but never revives a lost one with them', () => {
    const a = walker(100, 60);
    const scores = [...Array(10).fill(0.85), ...Array(10).fill(0.3), ...Array(5).fill(0), ...Array(3).fill(0.3), ...Array(3).fill(0.85)];
    const out = run(new PoseTracker(config), frames(scores.length, 30, (t, i) => (scores[i]! > 0 ? [{ ...a(t), score: scores[i]! }] : [])));
    for (let i = 0; i < 20; i++) expect(out[i]![0]!.trackId).toBe(1); // 10 confident, then 10 doubtful frames
    for (let i = 25; i < 28; i++) expect(out[i]![0]).toEqual({ trackState: 'untracked' }); // lost: doubtful is not enough
    for (let i = 28; i < 31; i++) expect(out[i]![0]!.trackId).toBe(1); // confident again: found
  });

  it('finds a person again after an occlusion shorter than lostTimeoutSec', () => {
    const a = walker(100, 120);
    const b = walker(150, 10, { h: 220 });
    // a is hidden for 0.6 s (18 frames at 30 fps) while b stays in view.
    const out = run(new PoseTracker(config), frames(60, 30, (t, i) => [b(t), ...(i < 20 || i >= 38 ? [a(t)] : [])]));
    expect(ids(out[19]!)).toEqual([1, 2]);
    expect(ids(out[38]!)).toEqual([1, 2]);
    expect(ids(out[59]!)).toEqual([1, 2]);
  });

  it('keeps the hidden person of a crossing (occluded behind the other) under the same id', () => {
    const front = walker(100, 150, { h: 220 });
    const back = walker(500, -120, { h: 170, cy: 225 });
    const out = run(
      new PoseTracker(config),
      frames(90, 30, (t) => {
        const [f, b] = [front(t), back(t)];
        const hidden = Math.abs((f.box[0] + f.box[2]) / 2 - (b.box[0] + b.box[2]) / 2) < 60;
        return hidden ? [f] : [f, b];
      }),
    );
    const seen = new Set(out.flatMap((annotations) => ids(annotations)));
    expect([...seen].sort()).toEqual([1, 2]);
    expect(ids(out[89]!)).toEqual([1, 2]);
  });

  it('gives a new id after lostTimeoutSec, never the old one', () => {
    const a = walker(100, 30);
    const out = run(new PoseTracker(config), frames(80, 30, (t, i) => (i < 20 || i >= 70 ? [a(t)] : []))); // 1.67 s gap
    expect(out[19]![0]!.trackId).toBe(1);
    expect(out[70]![0]!.trackId).toBeUndefined(); // tentative again
    expect(out[71]![0]!.trackId).toBe(2);
  });
});

describe('PoseTracker: time', () => {
  it('predicts by elapsed time: a 400 ms gap in a fast walk keeps the id', () => {
    // 300 px/s with 80-px-wide boxes: across the gap the person moves 1.5 box widths (no overlap with the last box).
    const a = walker(100, 300);
    const tracker = new PoseTracker(config);
    const times = [...Array.from({ length: 10 }, (_, i) => (i * 1000) / 30), ...Array.from({ length: 10 }, (_, i) => 300 + 400 + (i * 1000) / 30)];
    const out = times.map((ms) => tracker.update(ms, [a(ms / 1000)]));
    for (const annotations of out) expect(ids(annotations)).toEqual([1]);
  });

  it('tracks the same walk at 10 fps as at 30 fps', () => {
    const people = [walker(100, 150), walker(500, -150, { h: 190 })];
    const out = run(new PoseTracker(config), frames(30, 10, (t) => people.map((p) => p(t))), 10);
    for (const annotations of out) expect(ids(annotations)).toEqual([1, 2]);
  });

  it('survives a source clock that jumps backwards (a restarted live source)', () => {
    const a = walker(100, 30);
    const tracker = new PoseTracker(config);
    for (let i = 0; i < 10; i++) tracker.update(50_000 + i * 33, [a(i / 30)]);
    for (let i = 10; i < 20; i++) expect(ids(tracker.update((i - 10) * 33, [a(i / 30)]))).toEqual([1]);
  });
});

describe('PoseTracker: ids', () => {
  it('keeps counting after reset() (a stream that ended and runs again)', () => {
    const tracker = new PoseTracker(config);
    const scene = frames(5, 30, (t) => [walker(100, 30)(t), walker(400, -30)(t)]);
    run(tracker, scene);
    tracker.reset();
    expect(tracker.trackCount).toBe(0);
    // The clock may start over too: the new run's first frame confirms its people at once, with new ids.
    expect(ids(run(tracker, scene)[0]!)).toEqual([3, 4]);
  });

  it('never reuses an id across many entries and exits, including across a restore', () => {
    const random = seededRandom(11);
    type Walker = { x: number; vx: number; y: number; h: number; until: number };
    let walkers: Walker[] = [];
    let tracker = new PoseTracker(config);
    const lives = new Map<number, { first: number; last: number }>();
    for (let frame = 0; frame < 600; frame++) {
      if (random() < 0.05) walkers.push({ x: 50 + random() * 540, vx: (random() - 0.5) * 6, y: 150 + random() * 200, h: 100 + random() * 150, until: frame + 20 + Math.floor(random() * 120) });
      walkers = walkers.filter((w) => w.until > frame);
      const persons = walkers.map((w) => person({ cx: (w.x += w.vx), cy: w.y, h: w.h }));
      for (const annotation of tracker.update((frame * 1000) / 30, persons)) {
        if (annotation.trackId === undefined) continue;
        const life = lives.get(annotation.trackId) ?? { first: frame, last: frame };
        life.last = frame;
        lives.set(annotation.trackId, life);
      }
      if (frame === 300) tracker = PoseTracker.restore(config, JSON.parse(JSON.stringify(tracker.toJSON())));
    }
    const byBirth = [...lives.entries()].sort((a, b) => a[1].first - b[1].first || a[0] - b[0]);
    expect(byBirth.length).toBeGreaterThan(20);
    // Ids are handed out in birth order, from 1, without gaps or repeats.
    expect(byBirth.map(([id]) => id)).toEqual(byBirth.map((_, i) => i + 1));
    expect(tracker.nextTrackId).toBe(byBirth.length + 1);
  });
});
