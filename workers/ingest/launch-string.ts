import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * GStreamer launch strings for a stream URL. Pure functions: everything GStreamer-specific about URLs, scaling and
 * pacing is decided here, where unit tests can read it.
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
    const caps = `video/x-raw,width=${TEST_SOURCE.width},height=${TEST_SOURCE.height},framerate=${TEST_SOURCE.fps}/1`;
    return { kind: 'test', live: true, tokens: ['videotestsrc', `pattern=${pattern}`, 'is-live=true', '!', caps] };
  }
  if (scheme === 'v4l2' || (scheme === undefined && url.startsWith('/dev/video'))) {
    const device = scheme === 'v4l2' ? new URL(url).pathname : url;
    return { kind: 'v4l2', live: true, tokens: ['v4l2src', `device=${device}`] };
  }
  const filePath = scheme === 'file' ? decodeURIComponent(new URL(url).pathname) : path.resolve(url);
  return { kind: 'file', live: false, filePath, tokens: uriDecode(pathToFileURL(filePath).href) };
}

/** Name of the probe's sink: its negotiated caps line carries the source size. */
export const PROBE_SINK = 'probe';

/**
 * gst-launch-1.0 arguments of the size probe: decode unscaled until the caps are negotiated (gst-launch -v prints
 * them), in a child process. Why a first pass at all: gstreamer-superficial cannot attach pad probes or signal
 * handlers, so caps are only visible on a pulled sample, and renegotiating a running pipeline would deliver its
 * first frames at the wrong size, which lossless mode may not drop. Why a child process: a camera that stays
 * unreachable is probed every back-off period for as long as it is down, and whatever GStreamer keeps per attempt
 * dies with the child.
 */
export function probeArgs(source: SourceDescription): string[] {
  return ['-v', ...source.tokens, '!', 'videoconvert', '!', 'video/x-raw', '!', 'fakesink', `name=${PROBE_SINK}`];
}

/** Name of the fps-cap videorate: its in - out counters are what the cap discarded. */
export const RATE_CAP = 'ratecap';

export interface FrameLaunchOptions {
  width: number;
  height: number;
  fps?: number;
  mode: 'live' | 'lossless';
}

/**
 * Decode -> (drop to the fps cap) -> RGB -> scale into width x height -> appsink.
 * - videorate drop-only: frames above the cap are dropped, never duplicated; max-rate is whole fps (rounded up).
 * - videoscale add-borders=false: the fitted size keeps the aspect up to rounding, so no bars are added.
 * - appsink: live drops the oldest queued frame when ingest lags; lossless blocks upstream instead (back-pressure
 *   from the Redis bound reaches the decoder). Non-live sources in live mode are played at their own frame rate
 *   (sync=true), as a camera would deliver them; lossless decodes as fast as the workers consume.
 */
export function frameLaunchString(source: SourceDescription, options: FrameLaunchOptions): string {
  const rate = options.fps === undefined ? [] : ['!', 'videorate', `name=${RATE_CAP}`, 'drop-only=true', `max-rate=${Math.max(1, Math.ceil(options.fps))}`];
  const sync = options.mode === 'live' && !source.live;
  const drop = options.mode === 'live';
  return launchString([
    ...source.tokens,
    ...rate,
    '!', 'videoconvert', '!', 'videoscale', 'add-borders=false',
    '!', `video/x-raw,format=RGB,width=${options.width},height=${options.height}`,
    '!', 'appsink', 'name=sink', `sync=${sync}`, 'max-buffers=2', `drop=${drop}`, 'enable-last-sample=false',
  ]);
}
