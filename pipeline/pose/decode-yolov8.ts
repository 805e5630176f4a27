/**
 * YOLOv8-pose output decode, kept in step with models/src/posestream_models/decode.py (the reference it is
 * golden-tested against): output [N, 56, anchors] with rows cx, cy, w, h, person score (already sigmoid), then
 * 17 x (x, y, conf), all in 640-input pixels. Score > confidence, class-agnostic greedy NMS, letterbox undone,
 * clipped to the source image like Ultralytics. Runs per frame on the hot path: candidates live in reused typed
 * arrays; objects are created only for the persons returned.
 */
import type { Keypoint, Person } from '../wire/v1.js';
import { KEYPOINT_COUNT } from '../wire/v1.js';
import type { LetterboxTransform } from './letterbox.js';
import { createNmsScratch, nmsGreedy, type NmsScratch } from './nms.js';

export const POSE_ROWS = 4 + 1 + KEYPOINT_COUNT * 3;
const SCORE_ROW = 4;
const FIRST_KEYPOINT_ROW = 5;

export interface DecodeOptions {
  confidence: number;
  iou: number;
  maxDetections: number;
}

/** What `posestream infer` and the workers use; eval uses EVAL_DECODE_OPTIONS (the COCO protocol). */
export const DEFAULT_DECODE_OPTIONS: Readonly<DecodeOptions> = { confidence: 0.25, iou: 0.7, maxDetections: 300 };
export const EVAL_DECODE_OPTIONS: Readonly<DecodeOptions> = { confidence: 0.001, iou: 0.7, maxDetections: 300 };

interface Scratch {
  anchors: Int32Array;
  boxes: Float64Array;
  scores: Float64Array;
  keep: Int32Array;
  nms: NmsScratch;
}

let scratch: Scratch | undefined;

/** Grows once to the largest anchor count seen; synchronous use only, so one module-level set is safe. */
function scratchFor(anchors: number, maxDetections: number): Scratch {
  if (!scratch || scratch.anchors.length < anchors || scratch.keep.length < maxDetections) {
    const capacity = Math.max(anchors, scratch?.anchors.length ?? 0);
    scratch = {
      anchors: new Int32Array(capacity),
      boxes: new Float64Array(capacity * 4),
      scores: new Float64Array(capacity),
      keep: new Int32Array(Math.max(maxDetections, scratch?.keep.length ?? 0)),
      nms: createNmsScratch(capacity),
    };
  }
  return scratch;
}

function clip(value: number, limit: number): number {
  return value < 0 ? 0 : value > limit ? limit : value;
}

/** output: [N,56,anchors] float32; batchIndex selects the image; transform undoes the letterbox to source pixels. */
export function decodePoses(
  output: Float32Array,
  anchors: number,
  batchIndex: number,
  transform: LetterboxTransform,
  options: DecodeOptions,
): Person[] {
  const base = batchIndex * POSE_ROWS * anchors;
  if (!Number.isInteger(anchors) || anchors < 1 || output.length < base + POSE_ROWS * anchors) {
    throw new RangeError(`output of ${output.length} floats has no [${POSE_ROWS}, ${anchors}] block for batch index ${batchIndex}`);
  }
  const work = scratchFor(anchors, options.maxDetections);
  const { boxes, scores } = work;
  const scoreRow = base + SCORE_ROW * anchors;
  let count = 0;
  for (let a = 0; a < anchors; a++) {
    const score = output[scoreRow + a]!;
    if (!(score > options.confidence)) continue;
    const cx = output[base + a]!;
    const cy = output[base + anchors + a]!;
    const halfW = output[base + 2 * anchors + a]! / 2;
    const halfH = output[base + 3 * anchors + a]! / 2;
    // float32 arithmetic, as NumPy does it on the float32 output, so boxes match the reference to the bit.
    const b = count * 4;
    boxes[b] = Math.fround(cx - halfW);
    boxes[b + 1] = Math.fround(cy - halfH);
    boxes[b + 2] = Math.fround(cx + halfW);
    boxes[b + 3] = Math.fround(cy + halfH);
    scores[count] = score;
    work.anchors[count] = a;
    count++;
  }
  if (count === 0) return [];
  const kept = nmsGreedy(boxes, scores, count, options.iou, options.maxDetections, work.keep, work.nms);
  const { scale, padX, padY, sourceWidth: width, sourceHeight: height } = transform;
  const persons: Person[] = new Array(kept);
  for (let k = 0; k < kept; k++) {
    const candidate = work.keep[k]!;
    const anchor = work.anchors[candidate]!;
    const b = candidate * 4;
    const keypoints: Keypoint[] = new Array(KEYPOINT_COUNT);
    for (let j = 0; j < KEYPOINT_COUNT; j++) {
      const row = base + (FIRST_KEYPOINT_ROW + j * 3) * anchors + anchor;
      keypoints[j] = [
        clip((output[row]! - padX) / scale, width),
        clip((output[row + anchors]! - padY) / scale, height),
        output[row + 2 * anchors]!,
      ];
    }
    persons[k] = {
      box: [
        clip((boxes[b]! - padX) / scale, width),
        clip((boxes[b + 1]! - padY) / scale, height),
        clip((boxes[b + 2]! - padX) / scale, width),
        clip((boxes[b + 3]! - padY) / scale, height),
      ],
      score: scores[candidate]!,
      keypoints,
    };
  }
  return persons;
}
