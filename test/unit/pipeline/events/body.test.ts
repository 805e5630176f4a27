import { describe, expect, it } from 'vitest';
import { feetAnchor, observeBody, segmentHeightEstimate } from '../../../../pipeline/events/body.js';
import { updateScale } from '../../../../pipeline/events/body-scale.js';
import { POSES, figure } from '../../../support/stick-figure.js';

const place = { x: 600, floorY: 650, height: 400 };

describe('body measurements', () => {
  it('estimates standing height from limb segments, robust to one mislocated keypoint', () => {
    const person = figure(POSES.standing, place);
    expect(segmentHeightEstimate(person, 0.35)).toBeGreaterThan(0.9 * 400);
    expect(segmentHeightEstimate(person, 0.35)).toBeLessThan(1.2 * 400);
    // A wrist detected far away inflates one segment only: the second largest estimate ignores it.
    const outlier = { ...person, keypoints: person.keypoints.map((k, i) => (i === 9 ? [k[0] + 600, k[1], 0.9] : k)) as typeof person.keypoints };
    expect(segmentHeightEstimate(outlier, 0.35)).toBeLessThan(1.2 * 400);
    // Nothing to measure with fewer than two confident segments.
    expect(segmentHeightEstimate({ ...person, keypoints: person.keypoints.map(([x, y]) => [x, y, 0.1]) }, 0.35)).toBeUndefined();
  });

  it('keeps the height while a person lies foreshortened, and follows them slowly when they really shrink', () => {
    const standing = observeBody(figure(POSES.standing, place), 1280, 720, 0.35);
    let scale = updateScale(undefined, standing, 0);
    const tiny = observeBody(figure(POSES.standing, { ...place, height: 100 }), 1280, 720, 0.35);
    scale = updateScale(scale, tiny, 1000);
    expect(scale.height).toBeGreaterThan(0.85 * standing.segmentHeight!);
    scale = updateScale(scale, tiny, 30_000);
    expect(scale.height).toBeLessThan(0.3 * standing.segmentHeight!);
  });

  it('marks box edges on the frame border and uses the box bottom as feet when the ankles are not seen', () => {
    const person = figure(POSES.standing, { x: 20, floorY: 720, height: 400 });
    const observation = observeBody({ ...person, box: [0, person.box[1], person.box[2], 720] }, 1280, 720, 0.35);
    expect(observation.clipped).toEqual({ left: true, right: false, top: false, bottom: true });
    const noAnkles = { ...person, keypoints: person.keypoints.map((k, i) => (i >= 15 ? [k[0], k[1], 0.1] : k)) as typeof person.keypoints };
    expect(feetAnchor(noAnkles, 0.35)).toEqual({ x: (person.box[0] + person.box[2]) / 2, y: person.box[3] });
    expect(feetAnchor(person, 0.35).y).toBeCloseTo(720 - 0.04 * 400);
  });
});
