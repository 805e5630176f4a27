/**
 * The event engine as a worker result stage (pipeline/stages/result-stage.ts), after the tracker: per stream, in
 * seq order, tracked results go through an EventEngine; each event is written to the stream's event stream (with an
 * annotated JPEG of its decisive frame when its type asks for one) in the same MULTI as the results, and the
 * engine's state is committed with them. A worker that takes the stream over restores that state and re-runs the
 * unacknowledged frames, so every event is written exactly once, with the same id, across hand-overs.
 *
 * Rules come from the stream's definition (`events:`; absent = the defaults, no zones or lines), read on every
 * batch: a changed zone applies at once and keeps everything else the engine remembers.
 */
import sharp from 'sharp';
import { i420ToRgb } from '../image/i420.js';
import type { Logger } from '../obs/logger.js';
import { drawPoses } from '../pose/draw.js';
import { poseEventCommands } from '../redis/event-stream.js';
import type { ResultStage, StagedResult, StreamCommit } from '../stages/result-stage.js';
import type { EndOfStream, PoseEvent } from '../wire/v1.js';
import { DEFAULT_EVENT_RULES, type EventRulesConfig } from './config.js';
import { EventEngine } from './engine.js';

export const EVENTS_STAGE_NAME = 'events';

/** Where the stage reads a stream's current rules (the worker's StreamDirectory). */
export interface EventRulesSource {
  definition(streamId: string): { events?: EventRulesConfig } | undefined;
}

export interface EventStageOptions {
  rules: EventRulesSource;
  /** Events and snapshots are kept this long (config events.retentionSec). */
  retentionMs: number;
  snapshotQuality: number;
  logger?: Logger;
  /** Trimming clock (ms epoch); tests pin it. */
  now?: () => number;
}

interface StreamEngine {
  engine: EventEngine;
  /** JSON of the rules the engine runs with, to notice a change cheaply. */
  rules: string;
}

export class EventStage implements ResultStage {
  readonly name = EVENTS_STAGE_NAME;
  private readonly streams = new Map<string, StreamEngine>();

  constructor(private readonly options: EventStageOptions) {}

  acquire(streamId: string, saved: string | undefined): void {
    const rules = this.rulesOf(streamId);
    let state;
    if (saved !== undefined) {
      try {
        state = EventEngine.parseState(JSON.parse(saved));
      } catch {
        state = undefined;
      }
      if (!state) this.options.logger?.warn({ streamId }, 'saved event engine state unreadable: the engine starts afresh (open falls and zone stays are forgotten)');
    }
    this.streams.set(streamId, { engine: new EventEngine(streamId, rules, state), rules: JSON.stringify(rules) });
  }

  async process(results: StagedResult[], commit: StreamCommit): Promise<void> {
    const { engine } = this.current(commit.streamId);
    for (const staged of results) {
      for (const event of engine.process(staged.result)) {
        this.write(event, commit, event.snapshot ? await this.snapshot(staged, event) : undefined);
      }
    }
  }

  endOfStream(eos: EndOfStream, commit: StreamCommit): void {
    // Everyone leaves the zones (occupancy back to 0); a later run of the id starts afresh.
    for (const event of this.current(eos.streamId).engine.finish(eos.publishedTs)) this.write(event, commit, undefined);
  }

  save(streamId: string): string | null | undefined {
    const current = this.streams.get(streamId);
    if (!current) return undefined;
    const state = current.engine.snapshot();
    return state.lastSeq === undefined && state.tracks.length === 0 ? null : JSON.stringify(state);
  }

  release(streamId: string): void {
    this.streams.delete(streamId);
  }

  /** A snapshot that cannot be made costs the picture, not the event (it is stored with snapshot: false). */
  private async snapshot(staged: StagedResult, event: PoseEvent): Promise<Buffer | undefined> {
    try {
      return await renderSnapshot(staged, this.options.snapshotQuality);
    } catch (error) {
      this.options.logger?.warn({ streamId: event.streamId, eventId: event.id, err: (error as Error).message }, 'event snapshot could not be made');
      return undefined;
    }
  }

  private write(event: PoseEvent, commit: StreamCommit, snapshot: Buffer | undefined): void {
    const stored = snapshot ? event : { ...event, snapshot: false };
    const commands = poseEventCommands(stored, { retentionMs: this.options.retentionMs, nowMs: this.options.now?.() ?? Date.now(), ...(snapshot ? { snapshot } : {}) });
    for (const command of commands) commit.add(...command);
  }

  /** The stream's engine, with the rules of the stream's current definition. */
  private current(streamId: string): StreamEngine {
    const rules = this.rulesOf(streamId);
    const key = JSON.stringify(rules);
    let current = this.streams.get(streamId);
    if (!current) {
      current = { engine: new EventEngine(streamId, rules), rules: key };
      this.streams.set(streamId, current);
    } else if (current.rules !== key) {
      current.engine.updateRules(rules);
      current.rules = key;
    }
    return current;
  }

  private rulesOf(streamId: string): EventRulesConfig {
    return this.options.rules.definition(streamId)?.events ?? DEFAULT_EVENT_RULES;
  }
}

/**
 * The decisive frame with every person drawn (pipeline/pose/draw.ts), as JPEG. Draws on a copy (an I420 frame's RGB
 * conversion is one): the frame's pixels are published as a preview after the stages ran.
 */
async function renderSnapshot(staged: StagedResult, quality: number): Promise<Buffer> {
  const { meta, pixels } = staged.frame;
  const { result } = staged;
  const canvas = meta.format === 'i420' ? i420ToRgb(pixels, meta.width, meta.height) : Buffer.from(pixels);
  drawPoses(canvas, meta.width, meta.height, result.persons, result.sourceWidth, result.sourceHeight);
  return sharp(canvas, { raw: { width: meta.width, height: meta.height, channels: 3 } }).jpeg({ quality }).toBuffer();
}
