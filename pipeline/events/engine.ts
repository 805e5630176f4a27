/**
 * EventEngine: one per stream, fed tracked pose results in seq order, returns the events each frame completes.
 * Pure and deterministic: everything it remembers is in `EngineState` (plain JSON), so a worker persists it with
 * each batch and a new owner restores it and continues exactly, with the same event ids (event-factory.ts).
 * Frames at or below the last processed seq are ignored (redelivered after a hand-over).
 *
 * Per frame: advance the media clock (frame.ts), run every rule for each tracked person in trackId order
 * (track-rules.ts), forget tracks not seen for `trackExpirySec` (their zones are exited), then report occupancy
 * changes. Persons without a trackId (the tracker did not confirm them) are ignored.
 */
import type { PoseEvent } from '../wire/v1.js';
import type { EventRulesConfig } from './config.js';
import { emptyEngineState, engineStateSchema, type EngineState, type LineCounts, type TrackMemory } from './engine-state.js';
import { buildEvent, type EventDraft } from './event-factory.js';
import { newFallState } from './fall-rule.js';
import { advanceClock, frameRef, frameTimeMs, type EngineFrame, type FrameRef, type TrackedPerson } from './frame.js';
import { boxCover, boxIou } from './geometry.js';
import { stepTrack } from './track-rules.js';
import { exitOutcome } from './zone-rule.js';

/**
 * A track that appears overlapping one seen within HANDOFF_MS (IoU >= HANDOFF_IOU) takes over its fall history:
 * detections flicker while someone falls, and a tracker may split the track right then. A person lying after a
 * fall may go undetected for longer and come back with a new id: a new track over a fallen one that is out of
 * sight (seen within trackExpirySec) takes the fall over, so its `recovered` still comes, once.
 */
const HANDOFF_MS = 1000;
const HANDOFF_IOU = 0.3;
/** See fallenStandIns. */
const STAND_IN_COVER = 0.5;

export class EventEngine {
  private state: EngineState;

  constructor(
    readonly streamId: string,
    private rules: EventRulesConfig,
    state?: EngineState,
  ) {
    this.state = state ? structuredClone(state) : emptyEngineState();
  }

  /** Restores a stored state; undefined when it is not a valid state of this version (start afresh then). */
  static parseState(stored: unknown): EngineState | undefined {
    const parsed = engineStateSchema.safeParse(stored);
    return parsed.success ? parsed.data : undefined;
  }

  /** A copy of the whole memory, JSON-serialisable. */
  snapshot(): EngineState {
    return structuredClone(this.state);
  }

  /** New zones, lines or thresholds; memberships and counts of zones and lines that no longer exist are dropped. */
  updateRules(rules: EventRulesConfig): void {
    this.rules = rules;
    const zoneIds = new Set(rules.zones.map((zone) => zone.id));
    const lineIds = new Set(rules.lines.map((line) => line.id));
    for (const track of this.state.tracks) {
      for (const id of Object.keys(track.zones)) if (!zoneIds.has(id)) delete track.zones[id];
      for (const id of Object.keys(track.lines)) if (!lineIds.has(id)) delete track.lines[id];
    }
    for (const id of Object.keys(this.state.occupancy)) if (!zoneIds.has(id)) delete this.state.occupancy[id];
    for (const id of Object.keys(this.state.lineCounts)) if (!lineIds.has(id)) delete this.state.lineCounts[id];
  }

  get lineCounts(): Readonly<Record<string, LineCounts>> {
    return this.state.lineCounts;
  }

  get occupancy(): Readonly<Record<string, number>> {
    return this.state.occupancy;
  }

  process(frame: EngineFrame): PoseEvent[] {
    const state = this.state;
    if (state.lastSeq !== undefined && frame.seq <= state.lastSeq) return [];
    const timeMs = frameTimeMs(frame);
    state.clockMs = advanceClock(state.clockMs, state.lastTimeMs, timeMs);
    state.lastTimeMs = timeMs;
    state.lastSeq = frame.seq;
    const clockMs = state.clockMs;
    const at = frameRef(frame);
    state.lastFrame = at;
    const drafts: EventDraft[] = [];

    const known = new Map(state.tracks.map((track) => [track.id, track]));
    const persons = [...trackedPersons(frame.persons), ...this.fallenStandIns(frame.persons, known, clockMs)].sort((p, q) => p.trackId - q.trackId);
    const downLineages = new Set(state.tracks.filter((track) => track.fall.phase === 'down').map((track) => track.fall.lineage));
    const context = { rules: this.rules, clockMs, frame: at, frameWidth: frame.sourceWidth, frameHeight: frame.sourceHeight, downLineages };
    const present = new Set(persons.map((person) => person.trackId));
    const created = persons.filter((person) => !known.has(person.trackId)).map((person) => this.createTrack(person, known, present, clockMs, at));
    for (const person of persons) {
      const memory = known.get(person.trackId) ?? created.find((track) => track.id === person.trackId)!;
      const result = stepTrack(memory, person, context);
      drafts.push(...result.drafts);
      for (const crossing of result.crossings) drafts.push(this.countCrossing(memory.id, crossing, person.score, at));
      memory.lastSeenMs = clockMs;
      memory.lastFrame = at;
      memory.lastBox = [...person.box];
    }
    state.tracks.push(...created);
    drafts.push(...this.expireTracks(clockMs, at, this.rules.trackExpirySec * 1000, 'lost'));
    drafts.push(...this.occupancyChanges(at));
    return this.build(drafts, frame.publishedTs);
  }

  /**
   * The stream ended (a file's end, removal): everyone still inside a zone leaves it and occupancy drops to 0, dated
   * by the last frame; then the memory is cleared (what comes next is a new run). Nothing to say before any frame.
   */
  finish(publishedTs: number): PoseEvent[] {
    const at = this.state.lastFrame;
    const drafts = at ? [...this.expireTracks(Infinity, at, -1, 'ended'), ...this.occupancyChanges(at)] : [];
    this.state = emptyEngineState();
    return this.build(drafts, publishedTs);
  }

  private build(drafts: EventDraft[], publishedTs: number): PoseEvent[] {
    return drafts.map((draft) => buildEvent(this.streamId, draft, { snapshot: this.rules.snapshots.includes(draft.type), publishedTs }));
  }

  private createTrack(person: TrackedPerson & { trackId: number }, known: Map<number, TrackMemory>, present: Set<number>, clockMs: number, at: FrameRef): TrackMemory {
    const memory: TrackMemory = {
      id: person.trackId,
      lastSeenMs: clockMs,
      lastFrame: at,
      lastBox: [...person.box],
      scale: { height: person.box[3] - person.box[1], atMs: clockMs, measured: false },
      fall: newFallState(person.trackId),
      posture: {},
      hands: {},
      zones: {},
      lines: {},
    };
    const source = this.handOffSource(person.box, known, present, clockMs);
    if (source) {
      memory.fall = structuredClone(source.fall);
      memory.scale = { ...source.scale };
      // A fall moves to the new track (only one of them may report the recovery); a history is shared.
      if (source.fall.phase === 'down') source.fall = newFallState(source.id);
    }
    return memory;
  }

  /**
   * People on the floor are detected weakly and intermittently (scores 0.25-0.5, frames without them), and a tracker
   * following ByteTrack does not re-attach a weak detection to a track it lost a frame ago: the fallen person drops
   * out of tracking right when the fall must be confirmed. An untracked detection where a falling or fallen track
   * (out of sight, seen within trackExpirySec) was last seen stands in for it: it covers at least half of the smaller
   * of the two boxes (a standing box and the lying box of the same person share little more than their lower part).
   */
  private fallenStandIns(all: readonly TrackedPerson[], known: Map<number, TrackMemory>, clockMs: number): Array<TrackedPerson & { trackId: number }> {
    const present = new Set(all.map((person) => person.trackId).filter((id) => id !== undefined));
    const candidates = [...known.values()].filter(
      (track) => track.fall.phase !== 'watching' && !present.has(track.id) && clockMs - track.lastSeenMs <= this.rules.trackExpirySec * 1000,
    );
    const standIns: Array<TrackedPerson & { trackId: number }> = [];
    const untracked = all.filter((person) => person.trackId === undefined).sort((p, q) => q.score - p.score);
    for (const person of untracked) {
      let best: TrackMemory | undefined;
      let bestCover = STAND_IN_COVER;
      for (const track of candidates) {
        const cover = boxCover(track.lastBox, person.box);
        if (cover >= bestCover) {
          best = track;
          bestCover = cover;
        }
      }
      if (!best) continue;
      candidates.splice(candidates.indexOf(best), 1);
      standIns.push({ ...person, trackId: best.id });
    }
    return standIns;
  }

  private handOffSource(box: TrackedPerson['box'], known: Map<number, TrackMemory>, present: Set<number>, clockMs: number): TrackMemory | undefined {
    let best: TrackMemory | undefined;
    let bestOverlap = HANDOFF_IOU;
    for (const track of known.values()) {
      const down = track.fall.phase === 'down';
      const window = down ? this.rules.trackExpirySec * 1000 : HANDOFF_MS;
      if (clockMs - track.lastSeenMs > window || (down && present.has(track.id))) continue;
      const overlap = boxIou(track.lastBox, box);
      if (overlap >= bestOverlap) {
        best = track;
        bestOverlap = overlap;
      }
    }
    return best;
  }

  private countCrossing(trackId: number, crossing: { line: string; direction: 'left_to_right' | 'right_to_left' }, score: number, at: FrameRef): EventDraft {
    const counts = (this.state.lineCounts[crossing.line] ??= { left_to_right: 0, right_to_left: 0 });
    counts[crossing.direction] += 1;
    return {
      type: 'line_cross',
      trackId,
      start: at,
      at,
      confidence: score,
      line: crossing.line,
      direction: crossing.direction,
      attributes: { count: counts[crossing.direction], leftToRight: counts.left_to_right, rightToLeft: counts.right_to_left },
    };
  }

  /** Forgets tracks unseen for longer than expiryMs; their zone exits say why (`lost` or `ended`: true). */
  private expireTracks(clockMs: number, at: FrameRef, expiryMs: number, why: 'lost' | 'ended'): EventDraft[] {
    const drafts: EventDraft[] = [];
    this.state.tracks = this.state.tracks.filter((track) => {
      if (clockMs - track.lastSeenMs <= expiryMs) return true;
      for (const zone of this.rules.zones) {
        const membership = track.zones[zone.id];
        if (!membership?.inside) continue;
        const outcome = exitOutcome(membership, track.lastSeenMs, track.lastFrame);
        drafts.push({ type: outcome.type, trackId: track.id, start: outcome.start, at, confidence: 1, zone: zone.id, attributes: { ...outcome.attributes, [why]: true } });
      }
      return false;
    });
    return drafts;
  }

  private occupancyChanges(at: FrameRef): EventDraft[] {
    const drafts: EventDraft[] = [];
    for (const zone of this.rules.zones) {
      if (!zone.occupancy) continue;
      const count = this.state.tracks.filter((track) => track.zones[zone.id]?.inside).length;
      const previous = this.state.occupancy[zone.id] ?? 0;
      if (count === previous) continue;
      this.state.occupancy[zone.id] = count;
      drafts.push({ type: 'occupancy', start: at, at, confidence: 1, zone: zone.id, attributes: { count, previous } });
    }
    return drafts;
  }
}

/** Persons with a trackId, each id once (the first), in trackId order: the order rules see them is fixed. */
function trackedPersons(persons: readonly TrackedPerson[]): Array<TrackedPerson & { trackId: number }> {
  const seen = new Set<number>();
  const tracked: Array<TrackedPerson & { trackId: number }> = [];
  for (const person of persons) {
    if (person.trackId === undefined || seen.has(person.trackId)) continue;
    seen.add(person.trackId);
    tracked.push(person as TrackedPerson & { trackId: number });
  }
  return tracked.sort((p, q) => p.trackId - q.trackId);
}
