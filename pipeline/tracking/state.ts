/**
 * The tracker's whole state as compact JSON, so a worker that takes a stream over continues its tracks with the
 * same ids. JSON numbers round-trip doubles exactly (shortest representation), so a restored tracker is the same
 * tracker: continuing from it gives exactly the ids and boxes the original would have given.
 */
import { z } from 'zod';
import { KALMAN_STATE_LENGTH } from './kalman-box.js';
import { FLAT_KEYPOINTS, KEYPOINTS, type Track } from './track.js';

export const TRACKER_STATE_VERSION = 1 as const;

const finite = z.number().finite();
const count = z.number().int().nonnegative();

const trackStateSchema = z
  .object({
    key: count,
    id: count,
    state: z.enum(['tentative', 'tracked', 'lost']),
    kalman: z.array(finite).length(KALMAN_STATE_LENGTH),
    /** Only when it differs from `kalman` (a track that missed frames since its last observation). */
    anchor: z.array(finite).length(KALMAN_STATE_LENGTH).optional(),
    lastBox: z.tuple([finite, finite, finite, finite]),
    lastSeenMs: finite,
    bornMs: finite,
    hits: count,
    missed: count,
    pose: z.array(finite).length(FLAT_KEYPOINTS),
    smoothing: z.array(finite).length(KEYPOINTS * 4).optional(),
  })
  .strict();

export const trackerStateSchema = z
  .object({
    v: z.literal(TRACKER_STATE_VERSION),
    /** The next public id: part of the state so that no id is ever given twice in a stream. */
    nextId: z.number().int().positive(),
    nextKey: count,
    /** Frames seen (the first frame confirms its people at once, as ByteTrack does). */
    frames: count,
    /** The last frame's time on the tracker's clock (media time + offset), ms. */
    lastMs: finite.nullable(),
    /** Added to frame times after the source's clock went backwards (a restarted live source). */
    offsetMs: finite,
    /** The last positive frame interval, ms: the step assumed when time went backwards. */
    intervalMs: finite.positive(),
    tracks: z.array(trackStateSchema),
  })
  .strict();

export type TrackerState = z.infer<typeof trackerStateSchema>;
export type TrackStateJson = z.infer<typeof trackStateSchema>;

function sameValues(a: Float64Array, b: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return a.length === b.length;
}

export function trackToJson(track: Track): TrackStateJson {
  return {
    key: track.key,
    id: track.id,
    state: track.state,
    kalman: Array.from(track.kalman),
    ...(sameValues(track.anchor, track.kalman) ? {} : { anchor: Array.from(track.anchor) }),
    lastBox: [...track.lastBox],
    lastSeenMs: track.lastSeenMs,
    bornMs: track.bornMs,
    hits: track.hits,
    missed: track.missed,
    pose: Array.from(track.pose),
    ...(track.smoothing ? { smoothing: Array.from(track.smoothing) } : {}),
  };
}

export function trackFromJson(json: TrackStateJson): Track {
  return {
    key: json.key,
    id: json.id,
    state: json.state,
    kalman: Float64Array.from(json.kalman),
    anchor: Float64Array.from(json.anchor ?? json.kalman),
    lastBox: json.lastBox,
    lastSeenMs: json.lastSeenMs,
    bornMs: json.bornMs,
    hits: json.hits,
    missed: json.missed,
    pose: Float64Array.from(json.pose),
    smoothing: json.smoothing ? Float64Array.from(json.smoothing) : undefined,
  };
}
