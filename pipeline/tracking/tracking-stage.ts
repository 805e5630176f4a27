/**
 * The tracker as a worker result stage (pipeline/stages/result-stage.ts): per stream, in seq order, it gives
 * persons their track ids before the results are published, and commits the tracker's state with them. A worker
 * that takes the stream over restores that state and re-runs the frames that were not acknowledged, so the same
 * people keep their ids across a hand-over and no id is ever given twice (the id counter is part of the state).
 *
 * Per-stream settings come from the stream's definition (`tracking:`; absent = on with the defaults), read on
 * every batch, so a change applies at once: new settings continue the same tracks, and switching tracking off
 * keeps the id counter (switched on again, ids go on from there).
 */
import type { Logger } from '../obs/logger.js';
import type { ResultStage, StagedResult, StreamCommit } from '../stages/result-stage.js';
import type { StreamDefinitions } from '../streams/definition.js';
import type { EndOfStream, Person } from '../wire/v1.js';
import { DEFAULT_STREAM_TRACKING, type StreamTracking, type TrackerConfig } from './config.js';
import { PoseTracker, type TrackAnnotation } from './tracker.js';

export const TRACKING_STAGE_NAME = 'tracker';

interface StreamTracker {
  tracker: PoseTracker;
  /** JSON of the settings the tracker runs with, to notice a change cheaply. */
  settings: string;
}

export class TrackingStage implements ResultStage {
  readonly name = TRACKING_STAGE_NAME;
  private readonly streams = new Map<string, StreamTracker>();

  constructor(
    private readonly definitions: StreamDefinitions,
    private readonly logger?: Logger,
  ) {}

  acquire(streamId: string, saved: string | undefined): void {
    const tracking = this.trackingOf(streamId);
    this.streams.set(streamId, { tracker: this.restore(streamId, tracking, saved), settings: JSON.stringify(tracking) });
  }

  process(results: StagedResult[], _commit: StreamCommit): void {
    const streamId = results[0]!.result.streamId;
    const current = this.current(streamId);
    if (!this.trackingOf(streamId).enabled) {
      // Off: no ids, and no stale tracks waiting for the day it is switched on again (the id counter stays).
      if (current.tracker.trackCount > 0) current.tracker.reset();
      return;
    }
    for (const { result } of results) {
      const started = performance.now();
      const annotations = current.tracker.update(result.ptsMs ?? result.captureTs, result.persons);
      result.persons.forEach((person, i) => annotate(person, annotations[i]!));
      result.timings.trackMs = performance.now() - started;
    }
  }

  endOfStream(eos: EndOfStream, _commit: StreamCommit): void {
    // A later run of the stream starts without tracks but never reuses an id of this one.
    this.current(eos.streamId).tracker.reset();
  }

  save(streamId: string): string | undefined {
    const current = this.streams.get(streamId);
    return current ? JSON.stringify(current.tracker.toJSON()) : undefined;
  }

  release(streamId: string): void {
    this.streams.delete(streamId);
  }

  /** The stream's tracker, rebuilt from its own state when the settings changed since the last batch. */
  private current(streamId: string): StreamTracker {
    const tracking = this.trackingOf(streamId);
    const settings = JSON.stringify(tracking);
    let current = this.streams.get(streamId);
    if (!current) {
      current = { tracker: new PoseTracker(trackerSettings(tracking)), settings };
      this.streams.set(streamId, current);
    } else if (current.settings !== settings) {
      current = { tracker: PoseTracker.restore(trackerSettings(tracking), current.tracker.toJSON()), settings };
      this.streams.set(streamId, current);
    }
    return current;
  }

  private trackingOf(streamId: string): StreamTracking {
    return this.definitions.definition(streamId)?.tracking ?? DEFAULT_STREAM_TRACKING;
  }

  /**
   * The committed state, or a fresh tracker. A state this version cannot read (corrupt, or from another version)
   * costs the tracks, not the id counter when it can still be read: ids must never be given twice.
   */
  private restore(streamId: string, tracking: StreamTracking, saved: string | undefined): PoseTracker {
    const config = trackerSettings(tracking);
    if (saved === undefined) return new PoseTracker(config);
    let parsed: unknown;
    try {
      parsed = JSON.parse(saved);
      return PoseTracker.restore(config, parsed);
    } catch (error) {
      const nextId = (parsed as { nextId?: unknown } | undefined)?.nextId;
      this.logger?.warn({ streamId, err: (error as Error).message }, 'saved tracker state unreadable: tracks start over');
      const tracker = new PoseTracker(config);
      if (Number.isInteger(nextId) && (nextId as number) > 0) tracker.continueIdsFrom(nextId as number);
      return tracker;
    }
  }
}

function trackerSettings(tracking: StreamTracking): TrackerConfig {
  const { enabled: _enabled, ...config } = tracking;
  return config;
}

/** Adds the wire's tracking fields (pipeline/wire/v1.ts Person) to a published person; untracked persons get none. */
function annotate(person: Person, annotation: TrackAnnotation): void {
  if (annotation.trackState === 'untracked') return;
  if (annotation.trackId !== undefined) person.trackId = annotation.trackId;
  person.trackState = annotation.trackState;
  if (annotation.trackAgeMs !== undefined) person.trackAgeMs = annotation.trackAgeMs;
  if (annotation.smoothedKeypoints) person.smoothedKeypoints = annotation.smoothedKeypoints;
}
