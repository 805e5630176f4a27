import { z } from 'zod';

/**
 * Tracker settings, one definition for the stream config (per-stream `tracking:`), the worker and the eval. Defaults
 * come from the published trackers (ByteTrack, BoT-SORT, OC-SORT papers and Ultralytics' tracker yamls); where
 * ours differ the comment says why, and every threshold is either a score, a similarity (scale-free) or a time.
 */
const unit = z.number().min(0).max(1);

export const smoothingSchema = z
  .object({
    /** Publish One-Euro-smoothed keypoints next to the raw ones. */
    enabled: z.boolean().default(false),
    /** Hz at rest; MediaPipe's pose landmark default. */
    minCutoff: z.number().positive().max(100).default(0.05),
    /** Cutoff gain per (object size / s) of speed; MediaPipe's default. */
    beta: z.number().min(0).max(10_000).default(80),
    derivativeCutoff: z.number().positive().max(100).default(1),
  })
  .strict();

const trackerShape = {
    /**
     * Detections at or above this score take part in the first association and may start tracks. ByteTrack's
     * split between confident and doubtful detections; YOLOv8's person scores run lower than YOLOX's (paper:
     * 0.6), so we take 0.5: an unoccluded person scores 0.7-0.9, a partly hidden one 0.3-0.6.
     */
    highScore: unit.default(0.5),
    /** Detections below this are ignored; between lowScore and highScore they only extend existing tracks. */
    lowScore: unit.default(0.1),
    /** A new track needs a detection this confident (ByteTrack: high threshold + 0.1). */
    newTrackScore: unit.default(0.6),
    /** First association: pairs with cost 1 - similarity × score above this never match (ByteTrack 0.8). */
    matchCost: unit.default(0.8),
    /** Second association of doubtful detections to tracks seen last frame (ByteTrack 0.5). */
    lowMatchCost: unit.default(0.5),
    /** Tentative tracks against the remaining confident detections (ByteTrack 0.7). */
    tentativeMatchCost: unit.default(0.7),
    /** Weight of keypoint similarity (OKS) against box IoU in the association similarity. */
    poseWeight: unit.default(0.5),
    /** A keypoint counts for OKS when both the track and the detection have at least this confidence. */
    keypointConfidence: unit.default(0.5),
    /** Fewer shared confident keypoints than this and the pose is ignored (box IoU alone). */
    minKeypoints: z.number().int().min(1).max(17).default(4),
    /** Multiply similarity by the detection score in the first association (Ultralytics fuse_score). */
    fuseScore: z.boolean().default(true),
    /** Matches a new track needs before it gets an id (ByteTrack: 2, i.e. seen in two consecutive frames). */
    confirmHits: z.number().int().min(1).max(30).default(2),
    /** Seconds a track that lost its person is kept to be found again (ByteTrack: 30 frames at 30 fps). */
    lostTimeoutSec: z.number().positive().max(600).default(1),
    /** Kalman noise as fractions of the box side (ByteTrack / BoT-SORT: 1/20 and 1/160 per 30 fps frame). */
    positionNoise: z.number().positive().max(1).default(1 / 20),
    velocityNoise: z.number().positive().max(1).default(1 / 160),
    smoothing: smoothingSchema.default({ enabled: false, minCutoff: 0.05, beta: 80, derivativeCutoff: 1 }),
};

/** Births come from the confident detections only, and doubtful ones lie below the confident ones. */
function checkScoreOrder(config: { lowScore: number; highScore: number; newTrackScore: number }, context: z.RefinementCtx): void {
  if (config.lowScore > config.highScore) {
    context.addIssue({ code: 'custom', path: ['lowScore'], message: `lowScore (${config.lowScore}) must not exceed highScore (${config.highScore})` });
  }
  if (config.newTrackScore < config.highScore) {
    context.addIssue({ code: 'custom', path: ['newTrackScore'], message: `newTrackScore (${config.newTrackScore}) must be at least highScore (${config.highScore})` });
  }
}

export const trackerConfigSchema = z.object(trackerShape).strict().superRefine(checkScoreOrder);

export type TrackerConfig = z.infer<typeof trackerConfigSchema>;
export type TrackerConfigInput = z.input<typeof trackerConfigSchema>;

export const DEFAULT_TRACKER_CONFIG: Readonly<TrackerConfig> = Object.freeze(trackerConfigSchema.parse({}));

export function trackerConfig(input: TrackerConfigInput = {}): TrackerConfig {
  return trackerConfigSchema.parse(input);
}

/**
 * A stream's `tracking:` setting (config file, REST, registry): the tracker settings plus `enabled`. A stream
 * without it is tracked with the defaults; `tracking: { enabled: false }` publishes persons without ids.
 */
export const streamTrackingSchema = z
  .object({ enabled: z.boolean().default(true), ...trackerShape })
  .strict()
  .superRefine(checkScoreOrder);

/**
 * The same, read from a registry entry: keys it does not know (a setting of a newer posestream) are kept, not an
 * error, so an older worker still reads the stream and writes the entry back unchanged.
 */
export const storedStreamTrackingSchema = z
  .object({ enabled: z.boolean().default(true), ...trackerShape })
  .loose()
  .superRefine(checkScoreOrder);

export type StreamTracking = z.infer<typeof streamTrackingSchema>;

export const DEFAULT_STREAM_TRACKING: Readonly<StreamTracking> = Object.freeze(streamTrackingSchema.parse({}));
