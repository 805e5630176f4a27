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
  /** GStreamer elements ending in decoded raw video. */
  element: string;
  /** Live sources pace themselves; files and HTTP downloads run as fast as they are pulled unless synced. */
  live: boolean;
  /** Local file path, for a readable "no such file" before GStreamer's "Resource not found". */
  filePath?: string;
}

/** Double-quoted launch-string value (gst_parse unescapes \" and \\). */
function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * uridecodebin only exposes the video stream (the shared clips also carry AAC audio, which would otherwise be
 * decoded for nothing and left unlinked).
 */
function uriDecode(uri: string, extra = ''): string {
  return `uridecodebin uri=${quote(uri)} caps="video/x-raw(ANY)" expose-all-streams=false${extra}`;
}

/** Accepts the URL forms config/schema.ts validates: rtsp(s), http(s), file:// or a path, v4l2 / /dev/videoN, test://. */
export function describeSource(url: string): SourceDescription {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'rtsp' || scheme === 'rtsps') {
    // TCP interleaved: survives NAT/firewalls and loses no packets; source:: reaches the rtspsrc uridecodebin makes.
    return { kind: 'rtsp', live: true, element: uriDecode(url, ` source::latency=${RTSP_LATENCY_MS} source::protocols=tcp`) };
  }
  if (scheme === 'http' || scheme === 'https') return { kind: 'http', live: false, element: uriDecode(url) };
  if (scheme === 'test') {
    const pattern = new URL(url).hostname;
    const caps = `video/x-raw,width=${TEST_SOURCE.width},height=${TEST_SOURCE.height},framerate=${TEST_SOURCE.fps}/1`;
    return { kind: 'test', live: true, element: `videotestsrc pattern=${pattern} is-live=true ! ${caps}` };
  }
  if (scheme === 'v4l2' || (scheme === undefined && url.startsWith('/dev/video'))) {
    const device = scheme === 'v4l2' ? new URL(url).pathname : url;
    return { kind: 'v4l2', live: true, element: `v4l2src device=${quote(device)}` };
  }
  const filePath = scheme === 'file' ? decodeURIComponent(new URL(url).pathname) : path.resolve(url);
  return { kind: 'file', live: false, filePath, element: uriDecode(pathToFileURL(filePath).href) };
}

/** Size a source is scaled to so it fits inside size x size, aspect kept, Ultralytics rounding. */
export function fitInside(sourceWidth: number, sourceHeight: number, size = 640): { width: number; height: number } {
  const ratio = Math.min(size / sourceWidth, size / sourceHeight);
  return {
    width: Math.max(1, Math.min(size, Math.round(sourceWidth * ratio))),
    height: Math.max(1, Math.min(size, Math.round(sourceHeight * ratio))),
  };
}

/**
 * First pass: decode one frame unscaled to learn the source size from its caps. gstreamer-superficial cannot attach
 * pad probes or signal handlers, so caps are only visible on a pulled sample; renegotiating a running pipeline
 * instead would deliver its first frames at the wrong size, which lossless mode may not drop.
 */
export function probeLaunchString(source: SourceDescription): string {
  return `${source.element} ! videoconvert ! video/x-raw ! appsink name=sink sync=false max-buffers=1 drop=true enable-last-sample=false`;
}

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
  const rate = options.fps === undefined ? '' : ` ! videorate drop-only=true max-rate=${Math.max(1, Math.ceil(options.fps))}`;
  const sync = options.mode === 'live' && !source.live;
  const drop = options.mode === 'live';
  return (
    `${source.element}${rate} ! videoconvert ! videoscale add-borders=false` +
    ` ! video/x-raw,format=RGB,width=${options.width},height=${options.height}` +
    ` ! appsink name=sink sync=${sync} max-buffers=2 drop=${drop} enable-last-sample=false`
  );
}
