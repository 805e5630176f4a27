/**
 * Object keypoint similarity (COCO's OKS) between a track's predicted keypoints and a detection's, the pose half of
 * the association cost. Per keypoint: exp(-d² / (2 (s² k² + u))) with s² the object area (COCO's segment area,
 * taken as 0.53 × box area like Ultralytics), k = 2σ (COCO's per-keypoint sigmas) and u the variance of the
 * prediction itself (the Kalman filter's centre variance): a track that was lost for a while predicts its
 * keypoints less precisely, and its similarity must not collapse for that reason alone. Scale-free by
 * construction, so the same threshold holds for small and large people.
 *
 * Only keypoints that both sides saw with confidence >= `minConfidence` count; with fewer than `minKeypoints`
 * of them the pose says nothing and the caller falls back to box IoU.
 */
export const COCO_SIGMAS = [
  0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089,
] as const;

/** Ultralytics' (and the COCO tooling's) segment area ≈ 0.53 × box area for people. */
export const SEGMENT_AREA_PER_BOX_AREA = 0.53;

const TWO_K_SQUARED = COCO_SIGMAS.map((sigma) => 2 * (2 * sigma) ** 2);

/** Flat [x, y, conf] × 17 keypoints. */
export type FlatKeypoints = ArrayLike<number>;

export interface OksOptions {
  minConfidence: number;
  minKeypoints: number;
}

/**
 * OKS in [0, 1], or -1 when fewer than `minKeypoints` keypoints are confident on both sides.
 * `area` is the object's box area in pixels²; `predictionVariance` is added to each keypoint's variance.
 */
export function keypointSimilarity(
  predicted: FlatKeypoints,
  detected: FlatKeypoints,
  area: number,
  predictionVariance: number,
  options: OksOptions,
): number {
  const segmentArea = Math.max(1, area * SEGMENT_AREA_PER_BOX_AREA);
  let sum = 0;
  let count = 0;
  for (let k = 0; k < TWO_K_SQUARED.length; k++) {
    const o = k * 3;
    if (predicted[o + 2]! < options.minConfidence || detected[o + 2]! < options.minConfidence) continue;
    const dx = predicted[o]! - detected[o]!;
    const dy = predicted[o + 1]! - detected[o + 1]!;
    sum += Math.exp(-(dx * dx + dy * dy) / (TWO_K_SQUARED[k]! * segmentArea + 2 * predictionVariance));
    count++;
  }
  return count >= options.minKeypoints ? sum / count : -1;
}
