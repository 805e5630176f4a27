/**
 * Says when this worker is over capacity: its live streams offer more frames than it serves, so frames are dropped
 * (superseded by newer ones, trimmed from the live queue). Offered = how far each live stream's sequence numbers
 * advanced (ingest numbers every frame it publishes, so a gap is a frame the worker never served); served = results
 * published. Sampled per window (the caller's timer); it enters the over-capacity state after `enterWindows`
 * windows in a row drop at least `enterDropRate` of what was offered and leaves it after `leaveWindows` windows below
 * `leaveDropRate`, so a box running right at its limit reports one episode, not one per window. Pure: the caller
 * turns the transitions into a metric and one log line each.
 */
export interface OverloadNumbers {
  /** Frames per second the live streams offered (sequence numbers advanced) in the window. */
  offeredFps: number;
  /** Results per second published for them in the window. */
  servedFps: number;
  /** 1 - served / offered (0 when nothing was offered). */
  dropRate: number;
  /** Live streams that offered frames in the window. */
  streams: number;
}

export interface OverloadMonitorOptions {
  enterDropRate?: number;
  leaveDropRate?: number;
  enterWindows?: number;
  leaveWindows?: number;
  /** Called once when an episode starts, with the window that confirmed it. */
  onEnter: (numbers: OverloadNumbers) => void;
  /** Called once when it ends, with the last window and the worst drop rate seen during the episode. */
  onLeave: (numbers: OverloadNumbers & { worstDropRate: number }) => void;
}

/** A stream with no frame read for this many windows has gone (removed, handed to another worker). */
const FORGET_AFTER_WINDOWS = 5;

export class OverloadMonitor {
  /** Highest seq seen per stream up to the end of the previous window. */
  private readonly baseline = new Map<string, number>();
  /** Highest seq seen per stream in this window. */
  private readonly newest = new Map<string, number>();
  /** The window each stream was last seen in: a stream gone for FORGET_AFTER_WINDOWS is forgotten. */
  private readonly lastSeen = new Map<string, number>();
  private window = 0;
  private served = 0;
  private streak = 0;
  private over = false;
  private worst = 0;
  private readonly enterDropRate: number;
  private readonly leaveDropRate: number;
  private readonly enterWindows: number;
  private readonly leaveWindows: number;

  constructor(private readonly options: OverloadMonitorOptions) {
    this.enterDropRate = options.enterDropRate ?? 0.05;
    this.leaveDropRate = options.leaveDropRate ?? 0.01;
    this.enterWindows = options.enterWindows ?? 2;
    this.leaveWindows = options.leaveWindows ?? 3;
  }

  get overCapacity(): boolean {
    return this.over;
  }

  /** A live stream's frame was read (its seq). */
  offered(streamId: string, seq: number): void {
    if (seq > (this.newest.get(streamId) ?? -1)) this.newest.set(streamId, seq);
  }

  /** Results published for live streams. */
  servedResults(count: number): void {
    this.served += count;
  }

  /** Ends a window of `elapsedMs`; returns its numbers. */
  sample(elapsedMs: number): OverloadNumbers {
    let offered = 0;
    let streams = 0;
    for (const [streamId, seq] of this.newest) {
      const before = this.baseline.get(streamId);
      // A stream's first window only sets its baseline (its earlier frames belong to no window of ours).
      if (before !== undefined && seq > before) {
        offered += seq - before;
        streams += 1;
      }
    }
    this.window += 1;
    for (const [streamId, seq] of this.newest) {
      this.baseline.set(streamId, Math.max(seq, this.baseline.get(streamId) ?? seq));
      this.lastSeen.set(streamId, this.window);
    }
    for (const [streamId, window] of this.lastSeen) {
      if (this.window - window >= FORGET_AFTER_WINDOWS) {
        this.lastSeen.delete(streamId);
        this.baseline.delete(streamId);
      }
    }
    this.newest.clear();
    const seconds = Math.max(elapsedMs, 1) / 1000;
    const served = Math.min(this.served, offered);
    this.served = 0;
    const numbers: OverloadNumbers = {
      offeredFps: offered / seconds,
      servedFps: served / seconds,
      dropRate: offered > 0 ? 1 - served / offered : 0,
      streams,
    };
    this.update(numbers);
    return numbers;
  }

  private update(numbers: OverloadNumbers): void {
    if (!this.over) {
      this.streak = numbers.dropRate >= this.enterDropRate ? this.streak + 1 : 0;
      if (this.streak >= this.enterWindows) {
        this.over = true;
        this.streak = 0;
        this.worst = numbers.dropRate;
        this.options.onEnter(numbers);
      }
      return;
    }
    this.worst = Math.max(this.worst, numbers.dropRate);
    this.streak = numbers.dropRate < this.leaveDropRate ? this.streak + 1 : 0;
    if (this.streak >= this.leaveWindows) {
      this.over = false;
      this.streak = 0;
      this.options.onLeave({ ...numbers, worstDropRate: this.worst });
    }
  }
}
