/**
 * Stand-in for the real tracker (pipeline/tracking, issue 12) in the fall harness until it is in main: greedy IoU
 * association of each frame's persons with the tracks seen in the last `maxAgeMs`, highest detection score
 * first, each taking the free track it overlaps most; like ByteTrack, an unmatched detection starts a track only when its score reaches `minNewScore` (a second, weaker box
 * of the same falling person must not split the track). Good enough for the single-person development clips; it
 * has no motion model, so crossings of two people would swap ids.
 */
import type { Person } from '../../../pipeline/wire/v1.js';

export type TrackedPerson = Person & { trackId: number };

interface Track {
  id: number;
  box: Person['box'];
  lastMs: number;
}

export function iou(a: Person['box'], b: Person['box']): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

export class GreedyIouTracker {
  private tracks: Track[] = [];
  private nextId = 1;

  constructor(
    private readonly minIou = 0.2,
    private readonly maxAgeMs = 2000,
    private readonly minNewScore = 0.5,
  ) {}

  update(persons: Person[], timeMs: number): TrackedPerson[] {
    this.tracks = this.tracks.filter((track) => timeMs - track.lastMs <= this.maxAgeMs);
    // Highest score first, each taking the free track it overlaps most (ByteTrack's order of preference).
    const order = persons.map((_, index) => index).sort((p, q) => persons[q]!.score - persons[p]!.score);
    const assigned = new Map<number, Track>();
    const usedTracks = new Set<Track>();
    for (const index of order) {
      let best: Track | undefined;
      let bestOverlap = this.minIou;
      for (const track of this.tracks) {
        if (usedTracks.has(track)) continue;
        const overlap = iou(track.box, persons[index]!.box);
        if (overlap >= bestOverlap) {
          best = track;
          bestOverlap = overlap;
        }
      }
      if (best) {
        assigned.set(index, best);
        usedTracks.add(best);
      }
    }
    const tracked: TrackedPerson[] = [];
    persons.forEach((person, index) => {
      let track = assigned.get(index);
      if (!track) {
        if (person.score < this.minNewScore) return;
        track = { id: this.nextId++, box: person.box, lastMs: timeMs };
        this.tracks.push(track);
      }
      track.box = person.box;
      track.lastMs = timeMs;
      tracked.push({ ...person, trackId: track.id });
    });
    return tracked;
  }
}
