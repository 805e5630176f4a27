import type { StreamResult } from '../pipeline/wire/v1.js';

/**
 * Per-stream figures for GET /api/streams and the dashboard, computed from the results the gateway follows anyway:
 * result rate over a short window, capture-to-gateway latency, frames that produced no result (gaps in seq), and
 * the age of the last result. Prometheus gets the raw counters and histograms instead (rates belong in PromQL).
 */

export interface StreamStatsSnapshot {
  /** Results per second over the last WINDOW_MS. */
  fps: number;
  /** Median capture-to-gateway latency over the window, ms. */
  latencyMs: number | null;
  /** Frames without a result since the gateway started watching (gaps in seq: dropped as stale, lost, ...). */
  drops: number;
  results: number;
  lastSeq: number | null;
  lastResultAgeMs: number | null;
  persons: number | null;
}

const WINDOW_MS = 5_000;

class StreamWindow {
  readonly receivedAt: number[] = [];
  readonly latencies: number[] = [];
  drops = 0;
  results = 0;
  lastSeq: number | null = null;
  lastAt: number | null = null;
  persons: number | null = null;

  trim(now: number): void {
    while (this.receivedAt.length > 0 && now - this.receivedAt[0]! > WINDOW_MS) {
      this.receivedAt.shift();
      this.latencies.shift();
    }
  }
}

export class StreamStats {
  private readonly streams = new Map<string, StreamWindow>();

  /** Returns the number of frames skipped before this result (0 when none). */
  record(result: StreamResult, now = Date.now()): number {
    let window = this.streams.get(result.streamId);
    if (!window) {
      window = new StreamWindow();
      this.streams.set(result.streamId, window);
    }
    if (result.kind === 'eos') {
      window.lastSeq = null;
      return 0;
    }
    // A restarted source begins again at seq 0: that is a new run, not a gap.
    const gap = window.lastSeq !== null && result.seq > window.lastSeq ? result.seq - window.lastSeq - 1 : 0;
    window.drops += gap;
    window.results += 1;
    window.lastSeq = result.seq;
    window.lastAt = now;
    window.persons = result.persons.length;
    window.receivedAt.push(now);
    window.latencies.push(now - result.captureTs);
    window.trim(now);
    return gap;
  }

  forget(streamId: string): void {
    this.streams.delete(streamId);
  }

  snapshot(streamId: string, now = Date.now()): StreamStatsSnapshot {
    const window = this.streams.get(streamId);
    if (!window) {
      return { fps: 0, latencyMs: null, drops: 0, results: 0, lastSeq: null, lastResultAgeMs: null, persons: null };
    }
    window.trim(now);
    const count = window.receivedAt.length;
    // At least one second, so two results in quick succession at start-up do not read as a high rate.
    const span = count > 1 ? Math.max(1, (now - window.receivedAt[0]!) / 1000) : 0;
    const sorted = [...window.latencies].sort((a, b) => a - b);
    return {
      fps: span > 0 ? Math.round(((count - 1) / span) * 10) / 10 : 0,
      latencyMs: sorted.length > 0 ? Math.round(sorted[Math.floor(sorted.length / 2)]!) : null,
      drops: window.drops,
      results: window.results,
      lastSeq: window.lastSeq,
      lastResultAgeMs: window.lastAt === null ? null : now - window.lastAt,
      persons: window.persons,
    };
  }
}
