import { z } from 'zod';
import { MODEL_INPUT_FORMATS } from '../pipeline/image/i420.js';
import { streamSchema } from '../pipeline/streams/definition.js';
import { isLocalhostName, isLoopbackAddress, sourcePolicySchema } from '../pipeline/streams/source-policy.js';
import { notifySchema } from './notify.js';
import { REDIS_URL_OR_CLUSTER, redisSchema, resolveRedisConfig } from './redis.js';

/**
 * The one definition of posestream's configuration: model, deployment and the streams to seed the registry with.
 * Every object is strict, so a misspelt key is an error rather than a silently ignored setting. What a stream is
 * (`streams:` entries, also REST bodies and registry entries) is defined in pipeline/streams/definition.ts.
 */

/** Model runtimes, each a folder under workers/inference/backends/. */
export const MODEL_BACKENDS = ['openvino'] as const;
export type ModelBackend = (typeof MODEL_BACKENDS)[number];

/** model.hint: OpenVINO's performance hints, and ADAPTIVE (both compiled, chosen per batch by the load). */
export const MODEL_HINTS = ['ADAPTIVE', 'THROUGHPUT', 'LATENCY', 'CUMULATIVE_THROUGHPUT'] as const;
export type ModelHint = (typeof MODEL_HINTS)[number];

export const modelSchema = z
  .object({
    /** A YOLOv8-pose model file the backend reads (OpenVINO: IR .xml with its .bin, or ONNX). */
    path: z.string().min(1),
    backend: z.enum(MODEL_BACKENDS).default('openvino'),
    device: z.string().min(1).default('CPU'),
    /**
     * Side of the square network input: ingest fits frames inside it, the worker letterboxes to it and decodes the
     * model's anchors at it. A model exported with a dynamic size is reshaped to it; a fixed-size model must match.
     */
    inputSize: z.number().int().min(32).max(2048).multipleOf(32, 'must be a multiple of 32 (the model strides)').default(640),
    /**
     * How frames travel from ingest to the model: 'i420' (half the bytes of RGB through Redis; the compiled model
     * converts the colour in its graph, previews convert only when someone watches) or 'rgb' (RGB24 throughout).
     */
    inputFormat: z.enum(MODEL_INPUT_FORMATS).default('i420'),
    confidence: z.number().min(0).max(1).default(0.25),
    iou: z.number().gt(0).max(1).default(0.7),
    maxDetections: z.number().int().min(1).max(1000).default(100),
    // OpenVINO only (workers/inference/backends/openvino/settings.ts):
    /**
     * PERFORMANCE_HINT, or ADAPTIVE: the worker compiles the model for LATENCY and for THROUGHPUT and runs each batch
     * on the one that fits the load (workers/inference/adaptive-engine.ts): a lone camera gets its result about one
     * single-request latency after capture, a full worker the throughput model's frames/s.
     */
    hint: z.enum(MODEL_HINTS).default('ADAPTIVE'),
    /** Model compilation cache; makes restarts (and GPU starts) fast. */
    cacheDir: z.string().min(1).default('build/ov-cache'),
  })
  .strict();

export const workerSchema = z
  .object({
    /** Frames from any streams gathered into one inference batch. */
    batchSize: z.number().int().min(1).max(64).default(4),
    /**
     * How long a partial batch may wait for more frames while an infer request is free. 0: run what is ready at once
     * (lowest latency; under load batches fill while every request is busy).
     */
    maxBatchWaitMs: z.number().int().min(0).max(1000).default(0),
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

export const RESULTS_RETENTION_DEFAULT = 3_000;
export const RESULTS_MAX_AGE_SEC_DEFAULT = 600;

export const resultsSchema = z
  .object({
    /**
     * Pose results kept per stream in Redis, so late watchers can replay: at most this many, and none older than
     * maxAgeSec. The defaults fit 16 live streams in 256 MB of Redis (ARCHITECTURE.md, "Redis memory";
     * `posestream check-config` prints the estimate for a configuration).
     */
    retention: z.number().int().min(10).max(1_000_000).default(RESULTS_RETENTION_DEFAULT),
    maxAgeSec: z.number().int().min(10).max(30 * 86_400).default(RESULTS_MAX_AGE_SEC_DEFAULT),
  })
  .strict();

export const eventsSchema = z
  .object({
    /** Pose events (and their snapshots) are kept this long per stream in Redis, for replay, REST and sinks. */
    retentionSec: z.number().int().min(60).max(90 * 86_400).default(86_400),
    /** JPEG quality of event snapshots (the decisive frame with the skeletons drawn). */
    snapshotQuality: z.number().int().min(10).max(100).default(85),
  })
  .strict();

export const gatewaySchema = z
  .object({
    /** Loopback by default: any other address needs a token (or allowUnauthenticated). */
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(8080),
    /**
     * When set, everything but /healthz, /readyz and the dashboard's static files needs it: the WebSocket, every
     * REST call (reads included), MJPEG, snapshots and /metrics (`Authorization: Bearer <token>` or ?token=).
     */
    token: z.string().min(8).optional(),
    /** Binding a non-loopback host without a token is refused unless this is true (then warned at every start). */
    allowUnauthenticated: z.boolean().default(false),
    /** Browser origins allowed to open WebSockets; empty means any. */
    allowedOrigins: z.array(z.string().min(1)).default([]),
    /** Messages queued per WebSocket client before frames are dropped for it. */
    clientQueueLimit: z.number().int().min(1).max(10_000).default(64),
    jpegQuality: z.number().int().min(10).max(100).default(80),
  })
  .strict();

/** How a process stops (SIGINT/SIGTERM). */
export const shutdownSchema = z
  .object({
    /**
     * Longest a drain may take before the process exits 1 naming what it still held (which stays in Redis for the
     * next owner): with Redis unreachable a drain would otherwise wait for it forever.
     */
    drainTimeoutSec: z.number().min(0.5).max(3_600).default(10),
  })
  .strict();

export const configObjectSchema = z
  .object({
    redis: redisSchema.default(redisSchema.parse({})),
    model: modelSchema,
    worker: workerSchema.default(workerSchema.parse({})),
    ingest: ingestSchema.default(ingestSchema.parse({})),
    results: resultsSchema.default(resultsSchema.parse({})),
    events: eventsSchema.default(eventsSchema.parse({})),
    gateway: gatewaySchema.default(gatewaySchema.parse({})),
    /** What streams added through the REST API may open (config streams may open anything). */
    sourcePolicy: sourcePolicySchema.default(sourcePolicySchema.parse({})),
    streams: z.array(streamSchema).default([]),
    notify: notifySchema.default(notifySchema.parse({})),
    shutdown: shutdownSchema.default(shutdownSchema.parse({})),
  })
  .strict();

export const configSchema = configObjectSchema.superRefine((config, ctx) => {
  if (config.redis.url !== undefined && config.redis.cluster !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['redis', 'cluster'], message: REDIS_URL_OR_CLUSTER });
  }
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
  const exposure = unauthenticatedExposure(config.gateway);
  if (exposure) ctx.addIssue({ code: 'custom', path: ['gateway', 'host'], message: exposure });
  if (config.ingest.backoffMaxMs < config.ingest.backoffInitialMs) {
    ctx.addIssue({ code: 'custom', path: ['ingest', 'backoffMaxMs'], message: 'must be >= ingest.backoffInitialMs' });
  }
}).transform((config) => ({ ...config, redis: resolveRedisConfig(config.redis) }));

export type PosestreamConfig = z.infer<typeof configSchema>;

/** Host names that bind loopback only. */
function bindsLoopbackOnly(host: string): boolean {
  return isLocalhostName(host) || isLoopbackAddress(host);
}

/**
 * Why binding `host` is refused, or undefined: a gateway reachable from other machines without a token would let
 * anyone watch every camera and change streams, so that takes a token or an explicit, logged opt-out.
 */
export function unauthenticatedExposure(gateway: { host: string; token?: string; allowUnauthenticated: boolean }): string | undefined {
  if (gateway.token !== undefined || gateway.allowUnauthenticated || bindsLoopbackOnly(gateway.host)) return undefined;
  return (
    `"${gateway.host}" is not a loopback address and gateway.token is not set: anyone who can reach the gateway could ` +
    'watch every camera and change streams. Set gateway.token (or POSESTREAM_GATEWAY_TOKEN, 8+ characters), or bind ' +
    '127.0.0.1, or set gateway.allowUnauthenticated: true to expose it without authentication on purpose'
  );
}

/** A non-loopback gateway without a token (allowed by allowUnauthenticated): warned about at every start. */
export function exposedWithoutToken(gateway: { host: string; token?: string }): boolean {
  return gateway.token === undefined && !bindsLoopbackOnly(gateway.host);
}
