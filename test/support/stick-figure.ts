/**
 * Synthetic people for event-engine unit tests: stick figures in named poses (joint positions in units of the
 * person's height H, relative to the point between the feet, seen from the side), placed in a frame and moved
 * between poses by linear interpolation. Produces COCO-17 keypoints and a box the way the model reports them.
 */
import type { EngineFrame, TrackedPerson } from '../../pipeline/events/frame.js';
import type { Keypoint, PoseEvent } from '../../pipeline/wire/v1.js';
import type { EventEngine } from '../../pipeline/events/engine.js';

type XY = readonly [number, number];

/** Joint midpoints (dx right, dy up negative) in units of H from the feet point. */
export interface Pose {
  head: XY;
  shoulder: XY;
  elbow: XY;
  wrist: XY;
  hip: XY;
  knee: XY;
  ankle: XY;
  /** The left arm on its own (default: both arms follow elbow/wrist). */
  leftElbow?: XY;
  leftWrist?: XY;
}

export const POSES = {
  standing: { head: [0, -0.92], shoulder: [0, -0.82], elbow: [0.02, -0.64], wrist: [0.03, -0.47], hip: [0, -0.52], knee: [0, -0.28], ankle: [0, -0.04] },
  armsUp: { head: [0, -0.92], shoulder: [0, -0.82], elbow: [0.03, -0.97], wrist: [0.02, -1.1], hip: [0, -0.52], knee: [0, -0.28], ankle: [0, -0.04] },
  sittingChair: { head: [0, -0.67], shoulder: [-0.02, -0.57], elbow: [0.05, -0.42], wrist: [0.18, -0.38], hip: [0, -0.27], knee: [0.25, -0.27], ankle: [0.25, -0.04] },
  squat: { head: [0.14, -0.47], shoulder: [0.1, -0.38], elbow: [0.18, -0.3], wrist: [0.28, -0.3], hip: [-0.06, -0.13], knee: [0.18, -0.17], ankle: [0, -0.04] },
  sittingFloor: { head: [0, -0.48], shoulder: [-0.02, -0.38], elbow: [0.05, -0.25], wrist: [0.12, -0.15], hip: [0, -0.08], knee: [0.22, -0.07], ankle: [0.45, -0.04] },
  bentSeated: { head: [0.38, -0.27], shoulder: [0.29, -0.3], elbow: [0.3, -0.17], wrist: [0.32, -0.05], hip: [0, -0.27], knee: [0.25, -0.27], ankle: [0.25, -0.04] },
  bentStanding: { head: [0.3, -0.3], shoulder: [0.22, -0.38], elbow: [0.24, -0.22], wrist: [0.25, -0.08], hip: [-0.05, -0.5], knee: [0, -0.28], ankle: [0, -0.04] },
  lying: { head: [-0.92, -0.07], shoulder: [-0.8, -0.07], elbow: [-0.7, -0.04], wrist: [-0.6, -0.03], hip: [-0.5, -0.06], knee: [-0.25, -0.05], ankle: [0, -0.04] },
} as const satisfies Record<string, Pose>;

export type PoseName = keyof typeof POSES;

export interface Placement {
  /** Feet point in source pixels. */
  x: number;
  floorY: number;
  /** Standing height in pixels. */
  height: number;
}

export interface FigureOptions {
  /** Confidence per COCO keypoint index (default 0.9 for all). */
  confidence?: (index: number) => number;
  score?: number;
}

function lerp(a: XY, b: XY, t: number): XY {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
}

export function blendPose(a: Pose, b: Pose, t: number): Pose {
  const joints = ['head', 'shoulder', 'elbow', 'wrist', 'hip', 'knee', 'ankle'] as const;
  const pose = Object.fromEntries(joints.map((joint) => [joint, lerp(a[joint], b[joint], t)])) as unknown as Pose;
  if (a.leftElbow || b.leftElbow) pose.leftElbow = lerp(a.leftElbow ?? a.elbow, b.leftElbow ?? b.elbow, t);
  if (a.leftWrist || b.leftWrist) pose.leftWrist = lerp(a.leftWrist ?? a.wrist, b.leftWrist ?? b.wrist, t);
  return pose;
}

/** COCO-17 keypoints and box of a pose placed in the frame; left/right joints spread across the torso axis. */
export function figure(pose: Pose, place: Placement, options: FigureOptions = {}): { box: [number, number, number, number]; score: number; keypoints: Keypoint[] } {
  const h = place.height;
  const at = (p: XY): [number, number] => [place.x + p[0] * h, place.floorY + p[1] * h];
  const axis = [pose.shoulder[0] - pose.hip[0], pose.shoulder[1] - pose.hip[1]];
  const length = Math.hypot(axis[0]!, axis[1]!) || 1;
  // Perpendicular to the torso, in H units: where left and right joints sit either side of the midline.
  const perp: XY = [-axis[1]! / length, axis[0]! / length];
  const side = (p: XY, half: number, sign: 1 | -1): [number, number] => at([p[0] + perp[0] * half * sign, p[1] + perp[1] * half * sign]);
  const along = (p: XY, by: number): XY => [p[0] + (axis[0]! / length) * by, p[1] + (axis[1]! / length) * by];
  const points: Array<[number, number]> = [
    at(pose.head),
    side(along(pose.head, 0.02), 0.02, 1), side(along(pose.head, 0.02), 0.02, -1),
    side(pose.head, 0.04, 1), side(pose.head, 0.04, -1),
    side(pose.shoulder, 0.1, 1), side(pose.shoulder, 0.1, -1),
    pose.leftElbow ? at(pose.leftElbow) : side(pose.elbow, 0.12, 1), side(pose.elbow, 0.12, -1),
    pose.leftWrist ? at(pose.leftWrist) : side(pose.wrist, 0.12, 1), side(pose.wrist, 0.12, -1),
    side(pose.hip, 0.07, 1), side(pose.hip, 0.07, -1),
    side(pose.knee, 0.06, 1), side(pose.knee, 0.06, -1),
    side(pose.ankle, 0.06, 1), side(pose.ankle, 0.06, -1),
  ];
  const confidence = options.confidence ?? (() => 0.9);
  const keypoints = points.map(([x, y], index): Keypoint => [x, y, confidence(index)]);
  // The box covers the whole body: the top of the head beyond the nose, the soles below the ankles.
  const headTop = at(along(pose.head, 0.08));
  const xs = [...points.map((p) => p[0]), headTop[0]];
  const ys = [...points.map((p) => p[1]), headTop[1], at(pose.ankle)[1] + 0.04 * h];
  return { box: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)], score: options.score ?? 0.9, keypoints };
}

/** A person's script: poses at times (s); between two keyframes the pose and placement are interpolated. */
export interface Keyframe {
  t: number;
  pose: Pose | PoseName;
  place: Placement;
  options?: FigureOptions;
}

export interface TrackScript {
  trackId: number;
  keyframes: Keyframe[];
  /** Not in the frame before/after these times (default: first and last keyframe). */
  from?: number;
  until?: number;
}

function poseOf(pose: Pose | PoseName): Pose {
  return typeof pose === 'string' ? POSES[pose] : pose;
}

export function personAt(script: TrackScript, t: number): TrackedPerson | undefined {
  const frames = script.keyframes;
  const from = script.from ?? frames[0]!.t;
  const until = script.until ?? frames[frames.length - 1]!.t;
  if (t < from || t > until) return undefined;
  let index = frames.findIndex((frame) => frame.t > t);
  if (index === -1) index = frames.length;
  const a = frames[Math.max(0, index - 1)]!;
  const b = frames[Math.min(frames.length - 1, index)]!;
  const k = b.t > a.t ? Math.min(1, Math.max(0, (t - a.t) / (b.t - a.t))) : 0;
  const place: Placement = { x: a.place.x + (b.place.x - a.place.x) * k, floorY: a.place.floorY + (b.place.floorY - a.place.floorY) * k, height: a.place.height + (b.place.height - a.place.height) * k };
  return { ...figure(blendPose(poseOf(a.pose), poseOf(b.pose), k), place, a.options), trackId: script.trackId };
}

export interface SceneOptions {
  streamId?: string;
  fps?: number;
  durationSec: number;
  width?: number;
  height?: number;
  /** Capture time of frame n; default: media time (real-time source). A lossless file runs faster than that. */
  captureTs?: (n: number, mediaMs: number) => number;
  /** Omit ptsMs (a source without media time). */
  noPts?: boolean;
}

/**
 * What a detector reports for a person partly outside the frame: the box cut at the border, keypoints outside it
 * clamped with a near-zero confidence. Undefined when nothing of the person is inside.
 */
export function cropToFrame(person: TrackedPerson, width: number, height: number): TrackedPerson | undefined {
  const [x1, y1, x2, y2] = person.box;
  const box: [number, number, number, number] = [Math.max(0, x1), Math.max(0, y1), Math.min(width, x2), Math.min(height, y2)];
  if (box[2] - box[0] < 2 || box[3] - box[1] < 2) return undefined;
  const keypoints = person.keypoints.map(([x, y, c]): Keypoint => {
    const outside = x < 0 || y < 0 || x > width || y > height;
    return [Math.min(width, Math.max(0, x)), Math.min(height, Math.max(0, y)), outside ? 0.02 : c];
  });
  return { ...person, box, keypoints };
}

export function sceneFrames(scripts: TrackScript[], options: SceneOptions): EngineFrame[] {
  const fps = options.fps ?? 15;
  const width = options.width ?? 1280;
  const height = options.height ?? 720;
  const frames: EngineFrame[] = [];
  for (let n = 0; n * (1000 / fps) <= options.durationSec * 1000; n++) {
    const mediaMs = (n * 1000) / fps;
    const persons = scripts
      .map((script) => personAt(script, mediaMs / 1000))
      .map((person) => person && cropToFrame(person, width, height))
      .filter((p): p is TrackedPerson => p !== undefined);
    const frame: EngineFrame = {
      streamId: options.streamId ?? 'cam',
      seq: n,
      captureTs: options.captureTs ? options.captureTs(n, mediaMs) : 1_700_000_000_000 + mediaMs,
      sourceWidth: width,
      sourceHeight: height,
      persons,
      publishedTs: 1_700_000_000_000 + mediaMs + 50,
    };
    if (!options.noPts) frame.ptsMs = mediaMs;
    frames.push(frame);
  }
  return frames;
}

export function runFrames(engine: EventEngine, frames: EngineFrame[]): PoseEvent[] {
  return frames.flatMap((frame) => engine.process(frame));
}
