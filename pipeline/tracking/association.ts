/**
 * The association cost between tracks and detections: 1 - similarity, where similarity blends box IoU with the
 * keypoint similarity (OKS) of the track's predicted pose and the detection's pose. Boxes of people walking side by
 * side overlap heavily; their shoulders, hips and heads do not, so the pose separates them where IoU cannot.
 */
import { boxArea, iou, type Box } from './box.js';
import type { TrackerConfig } from './config.js';
import { centreVariance } from './kalman-box.js';
import { keypointSimilarity } from './oks.js';
import { FLAT_KEYPOINTS, placePose, predictedBox, type Detection, type Track } from './track.js';

export interface CostOptions {
  /** Multiply the similarity by the detection score (ByteTrack's fuse_score). */
  fuseScore: boolean;
  /** Compare with the last observed box instead of the prediction (OC-SORT's recovery of stopped tracks). */
  fromLastObservation?: boolean;
}

export function similarity(
  trackBox: Box,
  trackPose: Float64Array,
  predictionVariance: number,
  detection: Detection,
  config: TrackerConfig,
): number {
  const boxSimilarity = iou(trackBox, detection.box);
  // A detection that does not even touch the predicted box is not this track, however alike the poses are: the
  // pose ranks candidates near the prediction, it never licenses a jump (ByteTrack's IoU gate has the same effect).
  if (boxSimilarity <= 0 || config.poseWeight <= 0) return boxSimilarity;
  const oks = keypointSimilarity(trackPose, detection.keypoints, boxArea(trackBox), predictionVariance, {
    minConfidence: config.keypointConfidence,
    minKeypoints: config.minKeypoints,
  });
  return oks < 0 ? boxSimilarity : config.poseWeight * oks + (1 - config.poseWeight) * boxSimilarity;
}

export function costMatrix(tracks: readonly Track[], detections: readonly Detection[], config: TrackerConfig, options: CostOptions): Float64Array[] {
  const pose = new Float64Array(FLAT_KEYPOINTS);
  return tracks.map((track) => {
    const box = options.fromLastObservation ? track.lastBox : predictedBox(track);
    placePose(track, box, pose);
    const variance = options.fromLastObservation ? 0 : centreVariance(track.kalman);
    const row = new Float64Array(detections.length);
    for (let d = 0; d < detections.length; d++) {
      const detection = detections[d]!;
      const value = similarity(box, pose, variance, detection, config);
      row[d] = 1 - (options.fuseScore ? value * detection.score : value);
    }
    return row;
  });
}
