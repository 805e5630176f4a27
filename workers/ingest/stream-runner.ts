import type { StreamConfig } from '../../pipeline/streams/definition.js';
import { describeError } from '../../pipeline/errors.js';
import type { Logger } from '../../pipeline/obs/logger.js';
import type { Metrics } from '../../pipeline/obs/metrics.js';
import { WIRE_VERSION, type FrameEnd, type FrameMeta, type StreamState } from '../../pipeline/wire/v1.js';
import { Backoff } from './backoff.js';
import type { FrameGeometry, FrameSource, SourceFrame } from './frame-source.js';

/**
 * The life of one stream inside an ingest process:
 *
 *   starting -> running -> (source error | no frame for stallTimeout) -> reconnecting -(back-off)-> running ...
 *   starting -> (cannot open) -> error -(back-off)-> error | running
 *   running -> EOS -> ended (FrameEnd eof); a looping file never ends (its decoder seeks back to the start)
 *   any -> stop(removed | disabled) -> FrameEnd + stopped;  stop(released) -> pending (another process takes over)
 *   any -> a publish refused as fenced (a newer owner took the stream) -> fenced: stops at once, reports nothing
 *
 * Every (re)open of the source starts where Redis's ingest record says (sink.resume): the next seq, and for a file
 * the position after the last frame Redis accepted, so a restart never replays a frame nor skips one.
 *
 * Sources, the frame sink and the state reporter are interfaces so that the state machine is unit-tested with fakes
 * and runs with GStreamer and Redis in production.
 */

export interface FrameSink {
  /**
   * Where the source (re)starts (the ingest record). Absent: seqs continue in memory from firstSeq and the source
   * starts at its beginning. Throws IngestFencedError (code PS_INGEST_FENCED) when a newer owner took the stream.
   */
  resume?(signal?: AbortSignal): Promise<ResumePoint>;
  waitForRoom(signal?: AbortSignal): Promise<void>;
  /** Resolves with the entry id, or '' when the frame was dropped (live, Redis out of memory). */
  publish(meta: FrameMeta, pixels: Buffer, signal?: AbortSignal, ptsNs?: number): Promise<string>;
  publishEnd(end: FrameEnd): Promise<string>;
}

export type StopReason = 'removed' | 'disabled' | 'released';
/** fenced: a newer owner took the stream; this runner stopped without reporting (the stream is theirs). */
export type RunOutcome = 'ended' | StopReason | 'fenced';

/** Where a (re)opened source starts: the seq of its next frame; for a file, after this media time (ns). */
export interface ResumePoint {
  seq: number;
  afterPtsNs?: number;
}

const isFenced = (error: unknown) => (error as { code?: unknown } | undefined)?.code === 'PS_INGEST_FENCED';

export interface StreamRunnerOptions {
  stream: StreamConfig;
  source: FrameSource;
  sink: FrameSink;
  reportState: (state: StreamState) => Promise<void>;
  owner: string;
  /** Sequence number of the first frame when the sink keeps no ingest record (sink.resume absent). */
  firstSeq: number;
  stallTimeoutMs: number;
  backoff: { initialMs: number; maxMs: number; healthyAfterMs: number };
  logger: Logger;
  metrics?: Metrics;
}

class StallError extends Error {}

export class StreamRunner {
  private state: StreamState['state'] = 'starting';
  private restarts = 0;
  private seq: number;
  /** The last published frame's geometry (each frame carries its own: the source size may change mid-stream). */
  private geometry: FrameGeometry | undefined;
  private since = Date.now();
  private stopReason: StopReason | undefined;
  /** The stream's job went to another process: its state is theirs to report. */
  private quiet = false;
  private readonly abort = new AbortController();
  private readonly backoff: Backoff;
  private readonly streamId: string;

  constructor(private readonly options: StreamRunnerOptions) {
    this.seq = options.firstSeq;
    this.backoff = new Backoff(options.backoff);
    this.streamId = options.stream.id;
  }

  get currentState(): StreamState['state'] {
    return this.state;
  }

  /** Runs until the stream ends (EOF without loop) or stop() is called; never rejects. */
  async run(): Promise<RunOutcome> {
    try {
      return await this.runUntilDone();
    } finally {
      // Always: a decoder process left running would go on decoding for nobody.
      this.options.source.close();
    }
  }

  private async runUntilDone(): Promise<RunOutcome> {
    await this.report('starting');
    while (!this.stopReason) {
      try {
        if (await this.runSourceOnce()) {
          const lastSeq = this.seq - 1;
          await this.options.sink.publishEnd({ v: WIRE_VERSION, kind: 'eos', streamId: this.streamId, lastSeq, reason: 'eof' });
          await this.report('ended', 'end of file');
          return 'ended';
        }
      } catch (error) {
        this.options.source.close();
        if (isFenced(error)) return this.fence(error);
        if (this.stopReason) break;
        const reason = describeError(error);
        this.restarts += 1;
        this.options.metrics?.streamRestarts.inc({ stream_id: this.streamId });
        const next = this.state === 'running' || this.state === 'reconnecting' ? 'reconnecting' : 'error';
        const delay = this.backoff.next();
        this.options.logger.warn({ reason, retryInMs: delay, state: next }, 'stream source failed; retrying');
        await this.report(next, reason);
        await this.sleep(delay);
      }
    }
    this.options.source.close();
    return this.finish(this.stopReason ?? 'released');
  }

  /** A newer owner holds the stream: stop publishing at once, say so once, and leave its state to the new owner. */
  private fence(error: unknown): RunOutcome {
    this.stopReason ??= 'released';
    this.abort.abort(new Error('stream fenced'));
    this.options.source.close();
    this.options.logger.warn({ reason: describeError(error) }, 'another ingest process took this stream over; stopped publishing it');
    this.options.metrics?.streamUp.set({ stream_id: this.streamId }, 0);
    return 'fenced';
  }

  /** Stops the stream; run() then publishes the end marker (removed/disabled) and resolves. */
  stop(reason: StopReason, options: { report?: boolean } = {}): void {
    if (this.stopReason) return;
    this.quiet = options.report === false;
    this.stopReason = reason;
    this.abort.abort(new Error(`stream ${reason}`));
    this.options.source.close();
  }

  /** Returns true at a real end of file (loop off); throws on failure or stall; returns false when stopped. */
  private async runSourceOnce(): Promise<boolean> {
    const { source, sink } = this.options;
    let start = {};
    if (sink.resume) {
      const point = await sink.resume(this.abort.signal);
      this.seq = point.seq;
      if (source.finite && point.afterPtsNs !== undefined) start = { afterPtsNs: point.afterPtsNs };
    }
    if (this.stopReason) return false;
    await this.withStallTimeout(source.open(start), 'no frame');
    let healthy = false;
    for (;;) {
      // Lossless back-pressure before the pull, not after: the frame is then taken fresh from the source, and its
      // captureTs -> publishTs (decodeMs) measures ingest, not the wait for the workers.
      if (!(await this.waitForRoom())) return false;
      const event = await this.withStallTimeout(source.next(), 'no frame');
      if (this.stopReason) return false;
      switch (event.kind) {
        case 'frame':
          await this.noteGeometry(event, healthy);
          healthy = true;
          this.backoff.healthy();
          await this.publish(event);
          if (this.stopReason) return false;
          break;
        case 'eos':
          if (!source.finite) throw new Error('the source ended the stream (EOS)');
          return true;
        case 'error':
          throw new Error(event.message);
        case 'closed':
          if (this.stopReason) return false;
          throw new Error('source closed unexpectedly');
      }
    }
  }

  /** 'running' on the first frame of a run, and again (same since) when the source size changes mid-stream. */
  private async noteGeometry(frame: FrameGeometry, running: boolean): Promise<void> {
    const previous = this.geometry;
    this.geometry = { sourceWidth: frame.sourceWidth, sourceHeight: frame.sourceHeight, width: frame.width, height: frame.height };
    if (!running) await this.report('running');
    else if (previous && (previous.sourceWidth !== frame.sourceWidth || previous.sourceHeight !== frame.sourceHeight)) {
      await this.report('running', undefined, { keepSince: true });
    }
  }

  private async publish(frame: SourceFrame): Promise<void> {
    const { sink, metrics } = this.options;
    const publishTs = Date.now();
    const meta: FrameMeta = {
      v: WIRE_VERSION,
      streamId: this.streamId,
      seq: this.seq,
      captureTs: frame.arrivedAt,
      publishTs,
      decodeMs: publishTs - frame.arrivedAt,
      width: frame.width,
      height: frame.height,
      sourceWidth: frame.sourceWidth,
      sourceHeight: frame.sourceHeight,
      ...(frame.ptsMs === undefined ? {} : { ptsMs: frame.ptsMs }),
      format: frame.format ?? 'rgb24',
    };
    // Live: a frame Redis refused (out of memory) keeps its seq: a gap in a live stream is a dropped frame.
    this.seq += 1;
    const id = await sink.publish(meta, frame.pixels, this.abort.signal, frame.ptsNs);
    if (id !== '') metrics?.framesIngested.inc({ stream_id: this.streamId });
    // Dropped frames get no seq: a cap is not a loss, and a live stream that is behind skips to the newest frame.
    if (frame.capDrops > 0) metrics?.framesDropped.inc({ stream_id: this.streamId, reason: 'fps_cap' }, frame.capDrops);
    if (frame.behindDrops > 0) metrics?.framesDropped.inc({ stream_id: this.streamId, reason: 'ingest_behind' }, frame.behindDrops);
    // Frames the cap would have dropped after decoding them, left undecoded (non-reference frames; launch-string.ts).
    if (frame.skipDrops) metrics?.framesDropped.inc({ stream_id: this.streamId, reason: 'fps_cap_undecoded' }, frame.skipDrops);
    metrics?.stageDuration.observe({ stream_id: this.streamId, stage: 'decode' }, meta.decodeMs / 1000);
  }

  /** False when the stream was stopped while waiting. */
  private async waitForRoom(): Promise<boolean> {
    try {
      await this.options.sink.waitForRoom(this.abort.signal);
      return !this.stopReason;
    } catch (error) {
      if (this.stopReason) return false;
      throw error;
    }
  }

  /** A source that produces nothing for stallTimeoutMs is closed (which releases its pending pull) and retried. */
  private async withStallTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const seconds = Math.round(this.options.stallTimeoutMs / 100) / 10;
    const stall = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(new StallError(`${what} for ${seconds} s`));
        this.options.source.close();
      }, this.options.stallTimeoutMs);
    });
    try {
      return await Promise.race([promise, stall]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async finish(reason: StopReason): Promise<RunOutcome> {
    if (reason !== 'released') {
      try {
        await this.options.sink.publishEnd({ v: WIRE_VERSION, kind: 'eos', streamId: this.streamId, lastSeq: this.seq - 1, reason });
      } catch (error) {
        this.options.logger.warn({ reason: describeError(error) }, 'could not publish the end of a stopped stream');
      }
    }
    if (this.quiet) this.options.metrics?.streamUp.set({ stream_id: this.streamId }, 0);
    else await this.report(reason === 'released' ? 'pending' : 'stopped', reason === 'released' ? `released by ${this.options.owner}` : reason);
    return reason;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.abort.signal;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private async report(state: StreamState['state'], reason?: string, options: { keepSince?: boolean } = {}): Promise<void> {
    this.state = state;
    if (!options.keepSince) this.since = Date.now();
    this.options.metrics?.streamUp.set({ stream_id: this.streamId }, state === 'running' ? 1 : 0);
    try {
      await this.options.reportState({
        v: WIRE_VERSION,
        kind: 'state',
        streamId: this.streamId,
        state,
        ...(reason === undefined ? {} : { reason }),
        since: this.since,
        restarts: this.restarts,
        owner: this.options.owner,
        ...(this.geometry ? { sourceWidth: this.geometry.sourceWidth, sourceHeight: this.geometry.sourceHeight } : {}),
      });
    } catch (error) {
      // State reports are informational: a Redis hiccup must not take the stream down with it.
      this.options.logger.warn({ state, reason: describeError(error) }, 'could not report stream state');
    }
  }
}
