import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FrameFormat } from '../../pipeline/image/i420.js';

/**
 * A stream URL -> the decoder's GStreamer pipeline and arguments. Pure functions: everything GStreamer-specific
 * about URLs, pacing and the fps cap is decided here, where unit tests can read it; the decoder process
 * (decoder/posestream-decode.c) runs the pipeline and converts and scales each frame.
 */

/** Size of the synthetic test://<pattern> sources: a typical 720p camera. */
export const TEST_SOURCE = { width: 1280, height: 720, fps: 30 } as const;

/** RTSP jitter-buffer latency: enough to reorder on a LAN without adding visible delay. */
export const RTSP_LATENCY_MS = 200;

export type SourceKind = 'file' | 'rtsp' | 'http' | 'v4l2' | 'test';

export interface SourceDescription {
  kind: SourceKind;
  /** gst-launch tokens of the elements ending in decoded raw video; property values unquoted. */
  tokens: string[];
  /** Live sources pace themselves; files and HTTP downloads run as fast as they are pulled unless synced. */
  live: boolean;
  /** Local file path, for a readable "no such file" before GStreamer's "Resource not found". */
  filePath?: string;
}

/**
 * Tokens -> one launch string for gst_parse_launch: property values other than plain words are double-quoted
 * (gst_parse unescapes \" and \\), so URLs with spaces, quotes or "!" cannot break out of their property.
 */
export function launchString(tokens: readonly string[]): string {
  return tokens
    .map((token) => {
      const property = /^([a-z][a-z0-9-]*(?:::[a-z0-9-]+)?)=(.*)$/s.exec(token);
      if (!property || /^[A-Za-z0-9_.+-]*$/.test(property[2]!)) return token;
      return `${property[1]}="${property[2]!.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    })
    .join(' ');
}

/**
 * uridecodebin only exposes the video stream (the shared clips also carry AAC audio, which would otherwise be
 * decoded for nothing and left unlinked).
 */
function uriDecode(uri: string): string[] {
  return ['uridecodebin', `uri=${uri}`, 'caps=video/x-raw(ANY)', 'expose-all-streams=false'];
}

/** Accepts the URL forms config/schema.ts validates: rtsp(s), http(s), file:// or a path, v4l2 / /dev/videoN, test://. */
export function describeSource(url: string): SourceDescription {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'rtsp' || scheme === 'rtsps') {
    // rtspsrc directly, so latency and transport can be set: TCP interleaved survives NAT/firewalls and loses no
    // packets. The caps filter makes the delayed link pick the camera's video stream, not its audio.
    return {
      kind: 'rtsp',
      live: true,
      tokens: ['rtspsrc', `location=${url}`, `latency=${RTSP_LATENCY_MS}`, 'protocols=tcp', '!', 'application/x-rtp,media=video', '!', 'decodebin', 'caps=video/x-raw(ANY)'],
    };
  }
  if (scheme === 'http' || scheme === 'https') return { kind: 'http', live: false, tokens: uriDecode(url) };
  if (scheme === 'test') {
    const pattern = new URL(url).hostname;
    // I420, as a decoded camera stream is (videotestsrc would otherwise pick its first format, 64-bit ARGB).
    const caps = `video/x-raw,format=I420,width=${TEST_SOURCE.width},height=${TEST_SOURCE.height},framerate=${TEST_SOURCE.fps}/1`;
    return { kind: 'test', live: true, tokens: ['videotestsrc', `pattern=${pattern}`, 'is-live=true', '!', caps] };
  }
  if (scheme === 'v4l2' || (scheme === undefined && url.startsWith('/dev/video'))) {
    const device = scheme === 'v4l2' ? new URL(url).pathname : url;
    return { kind: 'v4l2', live: true, tokens: ['v4l2src', `device=${device}`] };
  }
  const filePath = scheme === 'file' ? decodeURIComponent(new URL(url).pathname) : path.resolve(url);
  return { kind: 'file', live: false, filePath, tokens: uriDecode(pathToFileURL(filePath).href) };
}

/** Name of the fps-cap videorate: the decoder reports its in - out counters as cap drops. */
export const RATE_CAP = 'ratecap';

export interface DecoderOptions {
  /** Side of the square the frames are fitted into (the model input). */
  inputSize: number;
  /** Pixel format of the frames (default rgb24): i420 is half the bytes, converted to RGB in the model graph. */
  format?: FrameFormat;
  fps?: number;
  mode: 'live' | 'lossless';
  /** Files only: play again from the start at the end (inside the decoder, without a restart). */
  loop: boolean;
  /** Non-live sources: deliver only frames whose media time is after this (ns): where a restarted stream resumes. */
  startAfterNs?: number;
}

/**
 * The decoder's pipeline: decode (video only) -> optional drop-only fps cap -> appsink. Colour conversion and
 * scaling happen in the decoder itself, after it picked the frame to deliver (live: the newest), at the size fitted
 * to each frame's own caps.
 * - videorate drop-only: frames above the cap are dropped, never duplicated; max-rate is whole fps (rounded up).
 *   Before the decoder's live slot, so the slot's drops count only frames that were wanted.
 * - appsink: the decoder pulls each sample as it arrives (max-buffers=1). Non-live sources in live mode are played
 *   at their own frame rate (sync=true), as a camera would deliver them; lossless decodes as fast as ingest takes
 *   the frames (back-pressure from the Redis bound reaches the demuxer). caps=video/x-raw: system memory.
 */
export function decoderLaunch(source: SourceDescription, options: Pick<DecoderOptions, 'fps' | 'mode'>): string {
  const rate = options.fps === undefined ? [] : ['!', 'videorate', `name=${RATE_CAP}`, 'drop-only=true', `max-rate=${capMaxRate(options.fps)}`];
  const sync = options.mode === 'live' && !source.live;
  return launchString([
    ...source.tokens,
    ...rate,
    '!', 'appsink', 'name=sink', `sync=${sync}`, 'max-buffers=1', 'drop=false', 'enable-last-sample=false', 'caps=video/x-raw',
  ]);
}

/** The cap videorate applies: whole fps, rounded up. */
function capMaxRate(fps: number): number {
  return Math.max(1, Math.ceil(fps));
}

/** Source rate, as a multiple of the cap, from which a live stream skips non-reference frames before decoding. */
export const SKIP_NONREF_RATE_FACTOR = 2;

/**
 * Live streams whose fps cap is well below the source rate leave non-reference frames (B-frames, typically)
 * undecoded: the cap would drop most frames anyway, after paying for their decoding. Returns the source rate (fps)
 * from which the decoder skips them (it compares it with the negotiated caps framerate, and decodes every frame again
 * when what it decodes falls under the cap; decoder/skip-nonref.h), or undefined: lossless streams (every frame the
 * cap keeps must be the same on a replay) and uncapped ones decode every frame.
 */
export function skipNonReferenceFromFps(options: Pick<DecoderOptions, 'fps' | 'mode'>): number | undefined {
  if (options.mode !== 'live' || options.fps === undefined) return undefined;
  return SKIP_NONREF_RATE_FACTOR * capMaxRate(options.fps);
}

/** Command-line arguments of posestream-decode for one run of a stream (see workers/ingest/decoder/). */
export function decoderArgs(source: SourceDescription, options: DecoderOptions): string[] {
  const skipFrom = skipNonReferenceFromFps(options);
  return [
    '--pipeline', decoderLaunch(source, options),
    '--size', String(options.inputSize),
    '--mode', options.mode,
    '--format', options.format === 'i420' ? 'i420' : 'rgb',
    ...(options.loop && !source.live ? ['--loop'] : []),
    ...(options.startAfterNs !== undefined && !source.live ? ['--start-after-ns', String(Math.trunc(options.startAfterNs))] : []),
    ...(skipFrom === undefined ? [] : ['--skip-nonref-from-fps', String(skipFrom)]),
  ];
}
