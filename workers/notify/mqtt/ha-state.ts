import type { PoseEvent } from '../../../pipeline/wire/v1.js';

/**
 * Home Assistant state derived from events: a stream's fall sensor is ON while any of its tracked persons fell and
 * has not recovered; a zone's occupancy is the count of its newest occupancy event. Updates are ordered by the
 * decisive frame's capture time, so an event re-delivered late (a retry) cannot turn an OFF back ON.
 */

/** The attribute of an occupancy event that holds the number of persons in the zone. */
export const OCCUPANCY_COUNT_ATTRIBUTE = 'count';

/** Recovered tracks are remembered this long (to order late re-deliveries), then forgotten. */
const FORGET_RECOVERED_MS = 3_600_000;

export type StateUpdate =
  | { kind: 'fall'; streamId: string; on: boolean; tracksDown: number; event: PoseEvent }
  | { kind: 'occupancy'; streamId: string; zone: string; count: number; event: PoseEvent };

interface TrackFall {
  down: boolean;
  at: number;
}

export class HaStateTracker {
  private readonly falls = new Map<string, Map<string, TrackFall>>();
  private readonly occupancy = new Map<string, Map<string, number>>();

  /** The state change an event causes, if any. */
  apply(event: PoseEvent): StateUpdate | undefined {
    if (event.type === 'fall' || event.type === 'recovered') return this.applyFall(event, event.type === 'fall');
    if (event.type === 'occupancy') return this.applyOccupancy(event);
    return undefined;
  }

  /** Zones seen so far for a stream (their discovery is retracted with the stream). */
  zones(streamId: string): string[] {
    return [...(this.occupancy.get(streamId)?.keys() ?? [])];
  }

  forget(streamId: string): void {
    this.falls.delete(streamId);
    this.occupancy.delete(streamId);
  }

  private applyFall(event: PoseEvent, down: boolean): StateUpdate | undefined {
    const tracks = this.falls.get(event.streamId) ?? new Map<string, TrackFall>();
    this.falls.set(event.streamId, tracks);
    const track = String(event.trackId ?? '-');
    const previous = tracks.get(track);
    if (previous && previous.at > event.atCaptureTs) return undefined;
    tracks.set(track, { down, at: event.atCaptureTs });
    for (const [id, fall] of tracks) {
      if (!fall.down && event.atCaptureTs - fall.at > FORGET_RECOVERED_MS) tracks.delete(id);
    }
    const tracksDown = [...tracks.values()].filter((fall) => fall.down).length;
    return { kind: 'fall', streamId: event.streamId, on: tracksDown > 0, tracksDown, event };
  }

  private applyOccupancy(event: PoseEvent): StateUpdate | undefined {
    const count = event.attributes[OCCUPANCY_COUNT_ATTRIBUTE];
    if (event.zone === undefined || typeof count !== 'number' || !Number.isFinite(count)) return undefined;
    const zones = this.occupancy.get(event.streamId) ?? new Map<string, number>();
    this.occupancy.set(event.streamId, zones);
    const newest = zones.get(event.zone);
    if (newest !== undefined && newest > event.atCaptureTs) return undefined;
    zones.set(event.zone, event.atCaptureTs);
    return { kind: 'occupancy', streamId: event.streamId, zone: event.zone, count, event };
  }
}
