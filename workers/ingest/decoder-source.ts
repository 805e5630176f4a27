import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { buildDir } from '../../pipeline/assets.js';
import { redactUrl } from '../../pipeline/obs/redact.js';
import { DecoderErrorCode, DecoderMessageParser, DecoderProtocolError, type DecoderMessage, type PixelFormatName } from './decoder-protocol.js';
import type { FrameSource, SourceEvent, SourceStart } from './frame-source.js';
import { decoderArgs, describeSource, type DecoderOptions, type SourceDescription } from './launch-string.js';

/**
 * A stream's frames from its own decoder process (workers/ingest/decoder/posestream-decode.c, built by
 * scripts/setup.sh into build/bin). Each open() starts a fresh child; close() ends it. Whatever GStreamer keeps per
 * pipeline dies with the child, so a camera that reconnects for a month costs ingest nothing, and no libuv thread
 * waits on GStreamer.
 *
 * Flow control, so that nothing piles up in Node:
 * - lossless: at most one parsed frame waits in Node. Once one is parsed the pipe is paused (Node stops reading it,
 *   the pipe fills, the decoder's write blocks, its decoding and the source wait) until next() takes it.
 * - live: next() asks the decoder for one frame (a byte on its stdin). The decoder converts and sends its newest
 *   decoded frame only then; until then it keeps replacing that frame with newer ones and counts the ones dropped,
 *   so a frame is never older than the request, however long ingest took to publish the previous one.
 */

export const DECODER_PATH = path.join(buildDir, 'bin', 'posestream-decode');

/** After SIGTERM (which lets an RTSP camera get its TEARDOWN) the child gets this long before SIGKILL. */
const KILL_GRACE_MS = 1_000;
/** Last bytes of the child's stderr kept, for the reason of an unexpected exit. */
const STDERR_TAIL_BYTES = 2_048;
/** Live mode: one byte on the decoder's stdin asks for one frame (decoder/protocol.h). */
const REQUEST = Buffer.from([1]);

export class SourceError extends Error {}

/** The decoder's error in words a user can act on; names the stream by the URL the user gave, nothing more. */
export function describeDecoderError(code: number, text: string, url: string): string {
  if (code === DecoderErrorCode.noVideo) return `no video stream in ${redactUrl(url)}`;
  if (code === DecoderErrorCode.noDecoder) return `no decoder for ${text} in this GStreamer installation (install gstreamer1.0-libav or the matching plugins package)`;
  if (code === DecoderErrorCode.usage) return `ingest decoder: ${text}`;
  return text;
}

/** Why a child ended without saying so itself. */
function describeExit(code: number | null, signal: NodeJS.Signals | null, stderrTail: string): string {
  const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
  const lastLine = stderrTail.trim().split('\n').at(-1)?.trim();
  return `decoder ${how}${lastLine ? `: ${lastLine}` : ''}`;
}

/** One child process and what it said. */
class DecoderRun {
  private readonly parser = new DecoderMessageParser();
  private readonly events: SourceEvent[] = [];
  private waiter: ((event: SourceEvent) => void) | undefined;
  private ended = false;
  private closing = false;
  private stderrTail = '';
  private killTimer: NodeJS.Timeout | undefined;
  /** Live: a frame was asked for and has not arrived yet. */
  private requested = false;

  constructor(
    private readonly child: ChildProcess,
    private readonly url: string,
    private readonly onDemand: boolean,
    /** What the decoder was asked for (--format). */
    private readonly decoderFormat: PixelFormatName,
    private readonly onInfo: ((text: string) => void) | undefined,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    });
    // stdin carries live frame requests; the child also exits when it closes (ingest gone), besides PR_SET_PDEATHSIG.
    child.stdin!.on('error', () => {});
    child.once('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'ENOENT' ? 'the ingest decoder is not built (run scripts/setup.sh)' : `cannot start the ingest decoder: ${error.message}`;
      this.end({ kind: 'error', message: reason });
    });
    // 'close' comes after stdout ended, so every message the child wrote is parsed before its exit is reported.
    child.once('close', (code, signal) => {
      clearTimeout(this.killTimer);
      this.end(this.closing ? { kind: 'closed' } : { kind: 'error', message: describeExit(code, signal, this.stderrTail) });
    });
  }

  next(): Promise<SourceEvent> {
    const event = this.events.shift();
    if (!this.events.some((queued) => queued.kind === 'frame')) this.child.stdout!.resume();
    if (event) return Promise.resolve(event);
    if (this.ended) return Promise.resolve({ kind: 'closed' });
    if (this.onDemand && !this.requested) {
      this.requested = true;
      this.child.stdin!.write(REQUEST);
    }
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Ends the child; frames not taken yet are dropped and a pending next() resolves with 'closed'. */
  close(): void {
    this.events.length = 0;
    this.end({ kind: 'closed' });
    this.kill();
  }

  private kill(): void {
    if (this.closing) return;
    this.closing = true;
    // Reading stops first: a child blocked writing a frame gets EPIPE and is free to handle SIGTERM.
    this.child.stdout!.destroy();
    this.child.stdin!.destroy();
    this.child.kill('SIGTERM');
    this.killTimer = setTimeout(() => this.child.kill('SIGKILL'), KILL_GRACE_MS);
    this.killTimer.unref();
  }

  private onData(chunk: Buffer): void {
    let messages: DecoderMessage[];
    try {
      messages = this.parser.push(chunk);
    } catch (error) {
      const reason = error instanceof DecoderProtocolError ? error.message : String(error);
      this.end({ kind: 'error', message: `ingest decoder protocol error: ${reason}` });
      this.kill();
      return;
    }
    for (const message of messages) this.onMessage(message);
  }

  private onMessage(message: DecoderMessage): void {
    switch (message.type) {
      case 'frame': {
        const { frame } = message;
        this.requested = false;
        if (frame.format !== this.decoderFormat) {
          this.end({ kind: 'error', message: `ingest decoder sent ${frame.format} frames, expected ${this.decoderFormat}` });
          return this.kill();
        }
        this.push({
          kind: 'frame',
          pixels: frame.pixels,
          format: frame.format === 'i420' ? 'i420' : 'rgb24',
          arrivedAt: Date.now(),
          width: frame.width,
          height: frame.height,
          sourceWidth: frame.sourceWidth,
          sourceHeight: frame.sourceHeight,
          ...(frame.ptsMs === undefined ? {} : { ptsMs: frame.ptsMs }),
          ...(frame.ptsNs === undefined ? {} : { ptsNs: frame.ptsNs }),
          capDrops: frame.capDrops,
          behindDrops: frame.behindDrops,
          skipDrops: frame.skipDrops,
        });
        // A frame nobody asked for yet waits in Node, alone: stop reading the pipe until next() takes it.
        if (this.events.length > 0) this.child.stdout!.pause();
        return;
      }
      case 'eos':
        return this.end({ kind: 'eos' });
      case 'error':
        return this.end({ kind: 'error', message: describeDecoderError(message.code, message.text, this.url) });
      case 'info':
        return this.onInfo?.(message.text);
    }
  }

  private push(event: SourceEvent): void {
    if (this.ended) return;
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) waiter(event);
    else this.events.push(event);
  }

  /** The first terminal event wins; frames before it are still delivered. */
  private end(event: SourceEvent): void {
    if (this.ended) return;
    this.push(event);
    this.ended = true;
  }
}

export interface DecoderSourceOptions extends Omit<DecoderOptions, 'loop'> {
  loop?: boolean;
  /** The decoder's informational messages (e.g. "source 1280x720 I420 -> 640x360 RGB"). */
  onInfo?: (text: string) => void;
  decoderPath?: string;
}

/** FrameSource over posestream-decode: `open()` may be called again after `close()` to reconnect. */
export class DecoderFrameSource implements FrameSource {
  readonly source: SourceDescription;
  readonly finite: boolean;
  private run: DecoderRun | undefined;

  constructor(
    private readonly url: string,
    private readonly options: DecoderSourceOptions,
  ) {
    this.source = describeSource(url);
    this.finite = !this.source.live;
  }

  /** `from.afterPtsNs`: files only, the decoder delivers only frames after that media time (exactly; see decoder/). */
  async open(from: SourceStart = {}): Promise<void> {
    this.close();
    if (this.source.filePath !== undefined && !existsSync(this.source.filePath)) {
      throw new SourceError(`no such file: ${this.source.filePath}`);
    }
    // A looping file's media time keeps growing across loops (the decoder offsets each pass), so a recorded position
    // may lie past the file's end: a looping file starts its next pass from the beginning instead (seq continues).
    const startAfterNs = this.source.live || this.options.loop ? undefined : from.afterPtsNs;
    const args = decoderArgs(this.source, { ...this.options, loop: this.options.loop ?? false, ...(startAfterNs === undefined ? {} : { startAfterNs }) });
    const child = spawn(this.options.decoderPath ?? DECODER_PATH, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const format = this.options.format === 'i420' ? 'i420' : 'rgb';
    this.run = new DecoderRun(child, this.url, this.options.mode === 'live', format, this.options.onInfo);
  }

  next(): Promise<SourceEvent> {
    return this.run?.next() ?? Promise.resolve({ kind: 'closed' });
  }

  close(): void {
    this.run?.close();
    this.run = undefined;
  }

  /** The running child's process id (tests and benchmarks kill it to simulate a decoder crash). */
  get pid(): number | undefined {
    return this.run?.pid;
  }
}
