import { z } from 'zod';
import { notifySchema } from './notify.js';

/**
 * The one definition of posestream's configuration: streams, model and deployment. Every object is strict, so a
 * misspelt key is an error rather than a silently ignored setting. REST bodies for streams use `streamSchema`.
 */

export const STREAM_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

const SUPPORTED_SCHEMES = ['rtsp:', 'rtsps:', 'http:', 'https:', 'file:', 'v4l2:', 'test:'] as const;

/** Test patterns map onto videotestsrc patterns; `test://ball` is the usual moving-object source. */
export const TEST_PATTERNS = ['smpte', 'ball', 'snow', 'black', 'white', 'gradient', 'checkers-8', 'pinwheel'] as const;

/**
 * Accepts rtsp(s)://, http(s)://, file:// or a plain path, v4l2:///dev/videoN or /dev/videoN, and test://<pattern>.
 * Anything else is rejected with the reason, so a typo never reaches GStreamer.
 */
export function describeUrlProblem(url: string): string | undefined {
  if (url.trim() !== url || url.length === 0) return 'must be a non-empty URL or path without surrounding spaces';
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return `is not a valid URL: "${url}"`;
    }
    if (!(SUPPORTED_SCHEMES as readonly string[]).includes(parsed.protocol)) {
      return `unsupported scheme "${parsed.protocol}" (use rtsp://, rtsps://, http(s)://, file://, v4l2://, test://)`;
    }
    if (['rtsp:', 'rtsps:', 'http:', 'https:'].includes(parsed.protocol) && parsed.hostname === '') {
      return `has no host: "${url}"`;
    }
    if (parsed.protocol === 'test:' && !(TEST_PATTERNS as readonly string[]).includes(parsed.hostname)) {
      return `unknown test pattern "${parsed.hostname}" (one of ${TEST_PATTERNS.join(', ')})`;
    }
    return undefined;
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(url) && !/^[A-Za-z]:[\\/]/.test(url)) {
    return `unsupported URL "${url}" (expected scheme://... or a file path)`;
  }
  return undefined;
}

export const streamModeSchema = z.enum(['live', 'lossless']);

export const streamSchema = z
  .object({
    id: z.string().regex(STREAM_ID_PATTERN, 'must be 1-64 characters: letters, digits, "_" or "-", starting with a letter or digit'),
    url: z.string().superRefine((url, ctx) => {
      const problem = describeUrlProblem(url);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    /** Upper bound on frames per second taken from the source; frames above it are dropped at the source. */
    fps: z.number().positive().max(240).optional(),
    /** Files only: start again at EOS instead of ending the stream. */
    loop: z.boolean().default(false),
    enabled: z.boolean().default(true),
    /**
     * live: only the newest frames are kept (stale frames are dropped and counted), latency stays bounded.
     * lossless: every frame is inferred; when the queue is full the source is held back instead.
     */
    mode: streamModeSchema.default('live'),
  })
  .strict();

export type StreamConfig = z.infer<typeof streamSchema>;
export type StreamConfigInput = z.input<typeof streamSchema>;

export const modelSchema = z
  .object({
    /** OpenVINO IR (.xml) or ONNX file of a YOLOv8-pose model. */
    path: z.string().min(1),
    device: z.string().min(1).default('CPU'),
    hint: z.enum(['THROUGHPUT', 'LATENCY', 'CUMULATIVE_THROUGHPUT']).default('THROUGHPUT'),
    /** Model compilation cache; makes restarts (and GPU starts) fast. */
    cacheDir: z.string().min(1).default('build/ov-cache'),
    /** Side of the square network input; frames are letterboxed to it. */
    inputSize: z.number().int().min(32).max(2048).default(640),
    confidence: z.number().min(0).max(1).default(0.25),
    iou: z.number().gt(0).max(1).default(0.7),
    maxDetections: z.number().int().min(1).max(1000).default(100),
  })
  .strict();

export const workerSchema = z
  .object({
    /** Frames from any streams gathered into one inference batch. */
    batchSize: z.number().int().min(1).max(64).default(4),
    /** How long a partial batch may wait for more frames before it is run anyway. */
    maxBatchWaitMs: z.number().int().min(0).max(1000).default(10),
    /** Infer requests in flight; default is what OpenVINO reports as optimal for the device and hint. */
    inferRequests: z.number().int().min(1).max(64).optional(),
    /** Frames claimed by a worker that died are taken over after this idle time. */
    claimIdleMs: z.number().int().min(100).max(600_000).default(5_000),
  })
  .strict();

export const ingestSchema = z
  .object({
    /** How many streams one ingest process runs at most. */
    maxStreams: z.number().int().min(1).max(256).default(16),
    /** A stream with no frame for this long is restarted. */
    stallTimeoutSec: z.number().positive().max(600).default(10),
    backoffInitialMs: z.number().int().min(10).max(60_000).default(500),
    backoffMaxMs: z.number().int().min(100).max(600_000).default(30_000),
    /** Live streams: frames kept in Redis per stream; older ones are dropped. */
    liveQueueLength: z.number().int().min(1).max(1000).default(4),
    /** Lossless streams: the source waits while this many frames are queued. */
    losslessQueueLength: z.number().int().min(1).max(10_000).default(32),
  })
  .strict();

export const resultsSchema = z
  .object({
    /** Pose results kept per stream in Redis, so late watchers can replay. */
    retention: z.number().int().min(10).max(1_000_000).default(10_000),
  })
  .strict();

export const gatewaySchema = z
  .object({
    host: z.string().min(1).default('0.0.0.0'),
    port: z.number().int().min(0).max(65_535).default(8080),
    /** When set, WebSocket and mutating REST calls need it (Bearer header or ?token=). */
    token: z.string().min(8).optional(),
    /** Browser origins allowed to open WebSockets; empty means any. */
    allowedOrigins: z.array(z.string().min(1)).default([]),
    /** Messages queued per WebSocket client before frames are dropped for it. */
    clientQueueLimit: z.number().int().min(1).max(10_000).default(64),
    jpegQuality: z.number().int().min(10).max(100).default(80),
  })
  .strict();

export const configObjectSchema = z
  .object({
    redis: z.object({ url: z.string().url().default('redis://127.0.0.1:6379') }).strict().default({ url: 'redis://127.0.0.1:6379' }),
    model: modelSchema,
    worker: workerSchema.default(workerSchema.parse({})),
    ingest: ingestSchema.default(ingestSchema.parse({})),
    results: resultsSchema.default(resultsSchema.parse({})),
    gateway: gatewaySchema.default(gatewaySchema.parse({})),
    streams: z.array(streamSchema).default([]),
    notify: notifySchema.default(notifySchema.parse({})),
  })
  .strict();

export const configSchema = configObjectSchema.superRefine((config, ctx) => {
  const seen = new Map<string, number>();
  config.streams.forEach((stream, index) => {
    const first = seen.get(stream.id);
    if (first !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['streams', index, 'id'],
        message: `duplicate stream id "${stream.id}" (also streams[${first}])`,
      });
    } else {
      seen.set(stream.id, index);
    }
  });
  if (config.ingest.backoffMaxMs < config.ingest.backoffInitialMs) {
    ctx.addIssue({ code: 'custom', path: ['ingest', 'backoffMaxMs'], message: 'must be >= ingest.backoffInitialMs' });
  }
});

export type PosestreamConfig = z.infer<typeof configSchema>;
