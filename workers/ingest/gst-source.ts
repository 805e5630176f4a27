import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fitInside } from '../../pipeline/pose/letterbox.js';
import { describeSource, frameLaunchString, PROBE_SINK, probeArgs, RATE_CAP, type SourceDescription } from './launch-string.js';

/**
 * One stream's GStreamer pipelines through gstreamer-superficial.
 *
 * Pitfalls this module exists to contain:
 * - A bad URI or a dead server only shows up as a bus error; a pending `pull()` then blocks until the pipeline
 *   is stopped. So every pipeline has a bus watch that records the error and stops the pipeline, which releases
 *   the pull with `null`.
 * - Each pending pull and each bus poll holds a libuv worker thread for as long as it waits: 2 per running stream
 *   (the size probe runs in a child process). UV_THREADPOOL_SIZE must be >= 2 x streams + what else the process
 *   needs; the CLI and vitest config set it before any thread exists.
 * - Every (re)start builds a fresh pipeline: a restarted pipeline does not re-run gst_parse's delayed links, so
 *   sources with dynamic pads (rtspsrc, decodebin) come back unlinked ("Internal data stream error"). The binding
 *   as published never freed a GstPipeline (~1.5 MB per restart); patches/gstreamer-superficial+1.7.4.patch makes
 *   it free pipelines, elements and bus polls on GC (test/bench/gst-restart-memory.bench.ts). The size probe
 *   still runs in a gst-launch child process, so an unreachable camera costs this process nothing per retry.
 */

interface GstElement {
  [property: string]: unknown;
}
interface GstAppSink {
  pull(callback: (buffer: Buffer | null, caps: Record<string, unknown>) => void): void;
}
interface GstPipeline {
  'auto-flush-bus': boolean;
  play(): void;
  stop(): void;
  seek(seconds: number, flags: number): boolean;
  findChild(name: string): (GstAppSink & GstElement) | undefined;
  pollBus(callback: (message: Record<string, unknown>) => void): void;
}
interface GstModule {
  Pipeline: new (launch: string) => GstPipeline;
}

const GST_SEEK_FLAG_FLUSH = 1;

let gstModule: GstModule | undefined;
function gst(): GstModule {
  // Loaded on first use so that importing ingest code (tests, CLI help) does not initialise GStreamer.
  gstModule ??= createRequire(import.meta.url)('gstreamer-superficial') as GstModule;
  return gstModule;
}

export type SourceEvent =
  | { kind: 'frame'; pixels: Buffer; /** Date.now() when the decoded frame reached JS */ arrivedAt: number }
  | { kind: 'eos' }
  | { kind: 'error'; message: string }
  | { kind: 'closed' };

export interface SourceGeometry {
  sourceWidth: number;
  sourceHeight: number;
  width: number;
  height: number;
}

/** A GStreamer error in words a user can act on: GStreamer's message plus the element that raised it. */
function describeBusError(message: Record<string, unknown>): string {
  const text = typeof message.message === 'string' ? message.message.replace(/\.$/, '') : 'GStreamer error';
  const element = typeof message._src_element_name === 'string' ? message._src_element_name : undefined;
  return element ? `${text} (${element})` : text;
}

/** A started pipeline plus its bus watch; `failure` is set once the bus reported an error. */
class RunningPipeline {
  failure: string | undefined;
  stopped = false;
  private readonly sink: GstAppSink;

  constructor(readonly pipeline: GstPipeline) {
    // The binding's bus poll blocks without a timeout and only ends when it wakes to find the pipeline stopped. With
    // auto-flush the messages of the stop itself can be flushed before the poll sees them, leaving a libuv thread
    // blocked for good (and the process unable to exit); kept, they are guaranteed to wake it.
    pipeline['auto-flush-bus'] = false;
    const sink = pipeline.findChild('sink');
    if (!sink) throw new Error('launch string has no appsink named "sink"');
    this.sink = sink;
  }

  play(): void {
    this.failure = undefined;
    this.stopped = false;
    this.pipeline.play();
    // Polling must start after play(): the binding stops re-polling once it sees the pipeline in NULL state.
    this.pipeline.pollBus((message) => {
      if (message.type === 'error' && !this.stopped) {
        this.failure = describeBusError(message);
        this.stop();
      }
    });
  }

  pull(): Promise<SourceEvent & { caps?: Record<string, unknown> }> {
    return new Promise((resolve) => {
      this.sink.pull((buffer, caps) => {
        if (buffer) resolve({ kind: 'frame', pixels: buffer, arrivedAt: Date.now(), caps });
        else if (this.failure !== undefined) resolve({ kind: 'error', message: this.failure });
        else if (this.stopped) resolve({ kind: 'closed' });
        else resolve({ kind: 'eos' });
      });
    });
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.pipeline.stop();
  }
}

export class SourceError extends Error {}

/**
 * Opens a stream URL: probes the source size, then runs the fitted RGB pipeline. `next()` yields frames until EOS,
 * an error, or `close()`; `open()` may be called again after `close()` to reconnect.
 */
export class GstFrameSource {
  readonly source: SourceDescription;
  readonly finite: boolean;
  private probe: ChildProcess | undefined;
  private active: RunningPipeline | undefined;
  private rateCap: GstElement | undefined;
  private rateCapDropped = 0;

  constructor(
    url: string,
    private readonly options: { inputSize: number; fps?: number; mode: 'live' | 'lossless' },
  ) {
    this.source = describeSource(url);
    this.finite = this.source.kind === 'file' || this.source.kind === 'http';
  }

  /** Resolves with the geometry once the first probe frame arrived; rejects with a SourceError (readable reason). */
  async open(): Promise<SourceGeometry> {
    if (this.source.filePath !== undefined && !existsSync(this.source.filePath)) {
      throw new SourceError(`no such file: ${this.source.filePath}`);
    }
    const { width: sourceWidth, height: sourceHeight } = await this.probeSize();
    const fitted = fitInside(sourceWidth, sourceHeight, this.options.inputSize);
    const launch = frameLaunchString(this.source, { ...fitted, fps: this.options.fps, mode: this.options.mode });
    this.active = new RunningPipeline(new (gst().Pipeline)(launch));
    this.rateCap = this.options.fps === undefined ? undefined : this.active.pipeline.findChild(RATE_CAP);
    this.rateCapDropped = 0;
    this.active.play();
    return { sourceWidth, sourceHeight, ...fitted };
  }

  /** The next frame, or why there is none. Never hangs past `close()`. */
  async next(): Promise<SourceEvent> {
    const pipeline = this.active;
    if (!pipeline) return { kind: 'closed' };
    const { caps: _caps, ...event } = await pipeline.pull();
    return event;
  }

  /**
   * Frames the fps cap discarded since the last call: videorate's in - out (its "drop" counter stays 0 for max-rate
   * drops; the 64-bit counters arrive as text).
   */
  takeCapDrops(): number {
    const total = this.rateCap ? Number(this.rateCap.in) - Number(this.rateCap.out) : 0;
    const fresh = Number.isFinite(total) ? Math.max(0, total - this.rateCapDropped) : 0;
    this.rateCapDropped += fresh;
    return fresh;
  }

  /** Files: back to the first frame after EOS (a flushing seek), keeping the pipeline and its threads. */
  rewind(): boolean {
    return this.active?.pipeline.seek(0, GST_SEEK_FLAG_FLUSH) ?? false;
  }

  /** Stops whatever runs; a pending `next()` resolves with 'closed'. */
  close(): void {
    this.probe?.kill('SIGKILL');
    this.probe = undefined;
    this.active?.stop();
    this.active = undefined;
  }

  private probeSize(): Promise<{ width: number; height: number }> {
    return new Promise((resolve, reject) => {
      const child = spawn('gst-launch-1.0', probeArgs(this.source), { stdio: ['ignore', 'pipe', 'pipe'] });
      this.probe = child;
      let output = '';
      let settled = false;
      const settle = (outcome: { size: { width: number; height: number } } | { error: string }) => {
        if (settled) return;
        settled = true;
        this.probe = undefined;
        child.kill('SIGKILL');
        if ('size' in outcome) resolve(outcome.size);
        else reject(new SourceError(outcome.error));
      };
      const scan = (chunk: Buffer) => {
        output += chunk.toString();
        const size = parseProbeSize(output);
        if (size) return settle({ size });
        const error = parseProbeError(output);
        if (error) settle({ error });
      };
      child.stdout!.on('data', scan);
      child.stderr!.on('data', scan);
      child.once('error', (error) => settle({ error: `cannot run gst-launch-1.0: ${error.message}` }));
      child.once('close', (code, signal) => {
        settle({ error: parseProbeError(output) ?? (signal ? 'stopped while opening' : `the source ended before its first frame (gst-launch exit ${code})`) });
      });
    });
  }
}

/** Width and height from gst-launch -v's caps line of the probe sink. */
export function parseProbeSize(output: string): { width: number; height: number } | undefined {
  const line = output.split('\n').find((text) => text.includes(`:${PROBE_SINK}.GstPad:sink: caps = video/x-raw`));
  const width = Number(/width=\(int\)(\d+)/.exec(line ?? '')?.[1]);
  const height = Number(/height=\(int\)(\d+)/.exec(line ?? '')?.[1]);
  return width > 0 && height > 0 ? { width, height } : undefined;
}

/** "Resource not found (source)" from gst-launch's "ERROR: from element /.../GstFileSrc:source: Resource not found." */
export function parseProbeError(output: string): string | undefined {
  const fromElement = /ERROR: from element [^\n]*?([\w-]+): ([^\n]+?)\.?\n/.exec(output);
  if (fromElement) return `${fromElement[2]} (${fromElement[1]})`;
  const erroneous = /(?:WARNING|ERROR): erroneous pipeline: ([^\n]+)/.exec(output);
  return erroneous ? `invalid pipeline: ${erroneous[1]}` : undefined;
}
