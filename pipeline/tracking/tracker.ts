/**
 * PoseTracker: who is who across frames of one stream. ByteTrack's two-stage association (confident detections
 * first, against every confirmed track including lost ones; then doubtful detections, which are mostly occluded
 * people, against the tracks seen in the previous frame), with a pose-aware cost (association.ts), a time-driven
 * Kalman filter (kalman-box.ts), OC-SORT's re-update after a gap (track.ts), births that need confirmation, and
 * lost tracks kept for a time and found again. Pure and deterministic: same frames in, same ids out; its state
 * serialises to JSON (state.ts) and restores to an identical tracker.
 */
import { assignWithLimit } from './assignment.js';
import { costMatrix, type CostOptions } from './association.js';
import type { Box } from './box.js';
import type { TrackerConfig } from './config.js';
import { REFERENCE_FRAME_MS } from './kalman-box.js';
import { TRACKER_STATE_VERSION, trackFromJson, trackToJson, trackerStateSchema, type TrackerState } from './state.js';
import {
  FLAT_KEYPOINTS,
  createTrack,
  observeTrack,
  predictTrack,
  referenceFrames,
  smoothedKeypoints,
  type Detection,
  type Track,
} from './track.js';

/** What the tracker needs of a person (the wire's Person satisfies it). */
export interface TrackerInput {
  box: Box;
  score: number;
  keypoints: ReadonlyArray<readonly [number, number, number]>;
}

export type PersonTrackState = 'tracked' | 'tentative' | 'untracked';

/** Per input person, in input order. */
export interface TrackAnnotation {
  /** Set when the person belongs to a confirmed track. */
  trackId?: number;
  /** tracked: has an id; tentative: a new track waiting for confirmation; untracked: ignored by the tracker. */
  trackState: PersonTrackState;
  /** ms since the track was born (on the stream's clock); absent when untracked. */
  trackAgeMs?: number;
  /** One-Euro-smoothed keypoints, when smoothing is on and the person is tracked. */
  smoothedKeypoints?: Array<[number, number, number]>;
}

const UNTRACKED: TrackAnnotation = Object.freeze({ trackState: 'untracked' });

export class PoseTracker {
  private tracks: Track[] = [];
  private nextId = 1;
  private nextKey = 0;
  private frames = 0;
  private lastMs: number | null = null;
  private offsetMs = 0;
  private intervalMs = REFERENCE_FRAME_MS;

  constructor(private readonly config: TrackerConfig) {}

  /** A tracker that continues exactly where the serialised one stopped. Throws on a malformed state. */
  static restore(config: TrackerConfig, state: unknown): PoseTracker {
    const parsed = trackerStateSchema.parse(state);
    const tracker = new PoseTracker(config);
    tracker.tracks = parsed.tracks.map(trackFromJson);
    tracker.nextId = parsed.nextId;
    tracker.nextKey = parsed.nextKey;
    tracker.frames = parsed.frames;
    tracker.lastMs = parsed.lastMs;
    tracker.offsetMs = parsed.offsetMs;
    tracker.intervalMs = parsed.intervalMs;
    return tracker;
  }

  toJSON(): TrackerState {
    return {
      v: TRACKER_STATE_VERSION,
      nextId: this.nextId,
      nextKey: this.nextKey,
      frames: this.frames,
      lastMs: this.lastMs,
      offsetMs: this.offsetMs,
      intervalMs: this.intervalMs,
      tracks: this.tracks.map(trackToJson),
    };
  }

  /**
   * Forgets every track but keeps the id counter, for a stream that ended and may run again: its next run starts
   * afresh (its first frame confirms at once) and never hands out an id of the previous run.
   */
  reset(): void {
    this.tracks = [];
    this.frames = 0;
    this.lastMs = null;
    this.offsetMs = 0;
    this.intervalMs = REFERENCE_FRAME_MS;
  }

  /** Ids below `nextId` are never handed out (they were, before a state was lost). */
  continueIdsFrom(nextId: number): void {
    this.nextId = Math.max(this.nextId, Math.floor(nextId));
  }

  /** Tracks alive now (tentative, tracked and lost). */
  get trackCount(): number {
    return this.tracks.length;
  }

  /** The id the next confirmed track will get. */
  get nextTrackId(): number {
    return this.nextId;
  }

  /**
   * One frame: `timeMs` is its media time (or capture time), persons as detected. Returns one annotation per
   * person, in order. Frames must come in stream order; gaps in time (drops, a stalled live source) are fine.
   */
  update(timeMs: number, persons: readonly TrackerInput[]): TrackAnnotation[] {
    const now = this.advanceClock(timeMs);
    this.frames++;
    const detections = persons.map(toDetection);
    const annotations: TrackAnnotation[] = persons.map(() => UNTRACKED);
    const confident: number[] = [];
    const doubtful: number[] = [];
    detections.forEach((detection, index) => {
      if (detection.score >= this.config.highScore) confident.push(index);
      else if (detection.score >= this.config.lowScore) doubtful.push(index);
    });

    const confirmed = this.tracks.filter((track) => track.state !== 'tentative');
    const tentative = this.tracks.filter((track) => track.state === 'tentative');

    // 1. Confident detections against every confirmed track, lost ones included (they may be found again).
    const first = this.associate(confirmed, confident, detections, this.config.matchCost, { fuseScore: this.config.fuseScore });
    for (const [track, index] of first.matches) this.observe(track, detections[index]!, now, annotations, index);

    // 2. Doubtful detections only extend tracks seen in the previous frame (ByteTrack): an occluded person
    //    scores low, but a low score alone is too weak to revive a lost track or start one.
    const recent = first.tracks.filter((track) => track.state === 'tracked');
    const second = this.associate(recent, doubtful, detections, this.config.lowMatchCost, { fuseScore: false });
    for (const [track, index] of second.matches) this.observe(track, detections[index]!, now, annotations, index);

    const unseen = new Set([...first.tracks.filter((track) => track.state === 'lost'), ...second.tracks]);
    for (const track of unseen) {
      track.state = 'lost';
      track.missed++;
    }

    // 3. Tentative tracks against the confident detections left; unmatched ones die (never confirmed).
    const third = this.associate(tentative, first.detections, detections, this.config.tentativeMatchCost, { fuseScore: this.config.fuseScore });
    for (const [track, index] of third.matches) this.observe(track, detections[index]!, now, annotations, index);
    const dead = new Set<Track>(third.tracks);

    // 4. Births from the confident detections nobody claimed.
    for (const index of third.detections) {
      const detection = detections[index]!;
      if (detection.score < this.config.newTrackScore) continue;
      const track = createTrack(this.nextKey++, detection, now, this.config);
      // ByteTrack confirms the first frame's people at once: there is no earlier frame to confirm them against.
      if (this.frames === 1 || this.config.confirmHits <= 1) this.confirm(track);
      this.tracks.push(track);
      annotations[index] = this.annotate(track, detection);
    }

    const timeoutMs = this.config.lostTimeoutSec * 1000;
    this.tracks = this.tracks.filter((track) => !dead.has(track) && !(track.state === 'lost' && now - track.lastSeenMs > timeoutMs));
    return annotations;
  }

  /** Media times may restart (a reconnected source): keep the tracker's clock monotonic. */
  private advanceClock(timeMs: number): number {
    let now = timeMs + this.offsetMs;
    if (this.lastMs !== null) {
      if (!(now >= this.lastMs)) {
        this.offsetMs += this.lastMs + this.intervalMs - now;
        now = this.lastMs + this.intervalMs;
      } else if (now > this.lastMs) {
        this.intervalMs = now - this.lastMs;
      }
      const frames = referenceFrames(this.lastMs, now);
      for (const track of this.tracks) predictTrack(track, frames, this.config);
    }
    this.lastMs = now;
    return now;
  }

  private associate(
    tracks: readonly Track[],
    indices: readonly number[],
    detections: readonly Detection[],
    limit: number,
    options: CostOptions,
  ): { matches: Array<[Track, number]>; tracks: Track[]; detections: number[] } {
    const candidates = indices.map((index) => detections[index]!);
    const cost = costMatrix(tracks, candidates, this.config, options);
    const result = assignWithLimit(cost, candidates.length, limit);
    return {
      matches: result.matches.map(([row, column]) => [tracks[row]!, indices[column]!]),
      tracks: result.unmatchedRows.map((row) => tracks[row]!),
      detections: result.unmatchedColumns.map((column) => indices[column]!),
    };
  }

  private observe(track: Track, detection: Detection, now: number, annotations: TrackAnnotation[], index: number): void {
    observeTrack(track, detection, now, this.config);
    if (track.state === 'tentative') {
      if (track.hits >= this.config.confirmHits) this.confirm(track);
    } else {
      track.state = 'tracked';
    }
    annotations[index] = this.annotate(track, detection);
  }

  private confirm(track: Track): void {
    track.state = 'tracked';
    track.id = this.nextId++;
  }

  private annotate(track: Track, detection: Detection): TrackAnnotation {
    if (track.state === 'tentative') return { trackState: 'tentative', trackAgeMs: track.lastSeenMs - track.bornMs };
    const smoothed = smoothedKeypoints(track, detection.keypoints);
    return {
      trackId: track.id,
      trackState: 'tracked',
      trackAgeMs: track.lastSeenMs - track.bornMs,
      ...(smoothed ? { smoothedKeypoints: smoothed } : {}),
    };
  }
}

function toDetection(person: TrackerInput): Detection {
  const keypoints = new Float64Array(FLAT_KEYPOINTS);
  const source = person.keypoints;
  for (let k = 0; k < source.length && k * 3 < FLAT_KEYPOINTS; k++) {
    const keypoint = source[k]!;
    keypoints[k * 3] = keypoint[0];
    keypoints[k * 3 + 1] = keypoint[1];
    keypoints[k * 3 + 2] = keypoint[2];
  }
  return { box: person.box, score: person.score, keypoints };
}
