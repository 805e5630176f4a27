import { z } from 'zod';

/**
 * posestream wire format, version 1: the single definition of every message that crosses a process or network
 * boundary (Redis frame and result streams, WebSocket). Producers, consumers and the dashboard all import this
 * file (the dashboard gets it bundled by the gateway), so it must stay free of Node-only APIs.
 * Changes inside v1 are additive only; a breaking change adds v2.ts and both decoders ship for one release.
 */
export const WIRE_VERSION = 1 as const;

export const KEYPOINT_NAMES = [
  'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
  'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
  'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle',
] as const;
export const KEYPOINT_COUNT = KEYPOINT_NAMES.length;

const finite = z.number().finite();

/** [x, y, confidence], x and y in source-frame pixels. */
export const keypointSchema = z.tuple([finite, finite, finite]);
export type Keypoint = z.infer<typeof keypointSchema>;

export const TRACK_STATES = ['tracked', 'tentative'] as const;

export const personSchema = z.object({
  /** [x1, y1, x2, y2] in source-frame pixels. */
  box: z.tuple([finite, finite, finite, finite]),
  score: finite,
  /** As detected (raw), whether or not the stream smooths them. */
  keypoints: z.array(keypointSchema).length(KEYPOINT_COUNT),
  // Tracking (per stream, `tracking.enabled`; pipeline/tracking/): absent when the stream is not tracked.
  /** The person's id within the stream: stable while they are tracked, never given to anyone else. */
  trackId: z.number().int().positive().optional(),
  /** tracked: has a trackId; tentative: a new person not yet confirmed (no id until their next frame). */
  trackState: z.enum(TRACK_STATES).optional(),
  /** How long the track has existed, ms on the stream's clock (0 in the frame it was born). */
  trackAgeMs: finite.nonnegative().optional(),
  /** One-Euro-smoothed keypoints of a tracked person, with `tracking.smoothing.enabled`. */
  smoothedKeypoints: z.array(keypointSchema).length(KEYPOINT_COUNT).optional(),
});
export type Person = z.infer<typeof personSchema>;

export const streamIdSchema = z.string().min(1).max(64);

/** Milliseconds spent in each stage for one frame; the dashboard and metrics show them per stream. */
export const stageTimingsSchema = z.object({
  /** Source pull + decode + scale inside the ingest process (pull to publish). */
  decodeMs: finite,
  /** Waiting in Redis and in the worker's batcher (publish to inference start). */
  queueMs: finite,
  inferMs: finite,
  /** Decoding the network output into persons and publishing. */
  postMs: finite,
  /** Tracking this frame (part of postMs), when the stream is tracked. */
  trackMs: finite.optional(),
});
export type StageTimings = z.infer<typeof stageTimingsSchema>;

export const poseResultSchema = z.object({
  v: z.literal(WIRE_VERSION),
  kind: z.literal('pose'),
  streamId: streamIdSchema,
  /** Frame sequence number within the stream, from 0, increasing by one per captured frame (gaps = drops). */
  seq: z.number().int().nonnegative(),
  /** Capture time, ms since the Unix epoch (ingest clock). */
  captureTs: finite,
  sourceWidth: z.number().int().positive(),
  sourceHeight: z.number().int().positive(),
  persons: z.array(personSchema),
  timings: stageTimingsSchema,
  worker: z.string(),
  /** When the worker published it, ms since the Unix epoch (worker clock). */
  publishedTs: finite,
});
export type PoseResult = z.infer<typeof poseResultSchema>;

export const endOfStreamSchema = z.object({
  v: z.literal(WIRE_VERSION),
  kind: z.literal('eos'),
  streamId: streamIdSchema,
  /** Sequence number of the last frame of the stream (-1 when it produced none). */
  lastSeq: z.number().int().min(-1),
  reason: z.enum(['eof', 'removed', 'disabled', 'error']),
  message: z.string().optional(),
  publishedTs: finite,
});
export type EndOfStream = z.infer<typeof endOfStreamSchema>;

/** What a results stream carries, in order: pose results and finally, for finite sources, an end-of-stream. */
export const streamResultSchema = z.discriminatedUnion('kind', [poseResultSchema, endOfStreamSchema]);
export type StreamResult = z.infer<typeof streamResultSchema>;

export const STREAM_STATES = ['pending', 'starting', 'running', 'reconnecting', 'error', 'ended', 'stopped'] as const;
export const streamStateSchema = z.object({
  v: z.literal(WIRE_VERSION),
  kind: z.literal('state'),
  streamId: streamIdSchema,
  state: z.enum(STREAM_STATES),
  /** Why it is in this state: the GStreamer error, "no frame for 10 s", "end of file", ... */
  reason: z.string().optional(),
  /** When it entered this state, ms since the Unix epoch. */
  since: finite,
  restarts: z.number().int().nonnegative(),
  /** Ingest process that runs the stream. */
  owner: z.string().optional(),
  sourceWidth: z.number().int().positive().optional(),
  sourceHeight: z.number().int().positive().optional(),
});
export type StreamState = z.infer<typeof streamStateSchema>;

/**
 * Registry events on the Redis events stream: what changed, never the new value (readers take it from the
 * registry hash), so an event can never disagree with the registry.
 */
export const streamChangedEventSchema = z.object({
  v: z.literal(WIRE_VERSION),
  kind: z.literal('stream-changed'),
  streamId: streamIdSchema,
  change: z.enum(['added', 'updated', 'removed']),
  ts: finite,
});
export const registryEventSchema = z.discriminatedUnion('kind', [streamChangedEventSchema, streamStateSchema]);
export type RegistryEvent = z.infer<typeof registryEventSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Frames on Redis: metadata in small fields, pixels in one binary field (see pipeline/wire/redis-codec.ts).

export const frameMetaSchema = z.object({
  v: z.literal(WIRE_VERSION),
  streamId: streamIdSchema,
  seq: z.number().int().nonnegative(),
  captureTs: finite,
  /** When the ingest published it (ms epoch); decodeMs = publishTs - pull time. */
  publishTs: finite,
  decodeMs: finite,
  /** Pixel buffer size: the source scaled to fit inside the model input, aspect kept. */
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  sourceWidth: z.number().int().positive(),
  sourceHeight: z.number().int().positive(),
  format: z.literal('rgb24'),
});
export type FrameMeta = z.infer<typeof frameMetaSchema>;

// ---------------------------------------------------------------------------------------------------------------
// WebSocket API. Text messages are JSON objects of the schemas below; annotated frames are binary messages.

export const CHANNELS = ['results', 'frames', 'state'] as const;
export const channelSchema = z.enum(CHANNELS);
export type Channel = z.infer<typeof channelSchema>;

/** Largest client message the gateway accepts, in bytes. */
export const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;

const requestId = z.string().max(64).optional();

export const subscribeMessageSchema = z
  .object({
    v: z.literal(WIRE_VERSION),
    type: z.literal('subscribe'),
    id: requestId,
    /** Stream ids, or ["*"] for every stream, including ones added later. */
    streams: z.array(z.string().min(1).max(64)).min(1).max(256),
    channels: z.array(channelSchema).min(1),
    /** results: first replay what is retained in Redis, then follow live. */
    fromStart: z.boolean().optional(),
    /** frames: skeletons drawn by the server (default true); false gives the plain frame for client-side overlays. */
    annotated: z.boolean().optional(),
  })
  .strict();

export const unsubscribeMessageSchema = z
  .object({
    v: z.literal(WIRE_VERSION),
    type: z.literal('unsubscribe'),
    id: requestId,
    streams: z.array(z.string().min(1).max(64)).min(1).max(256),
    channels: z.array(channelSchema).min(1),
  })
  .strict();

export const pingMessageSchema = z.object({ v: z.literal(WIRE_VERSION), type: z.literal('ping'), id: requestId }).strict();

export const clientMessageSchema = z.discriminatedUnion('type', [
  subscribeMessageSchema,
  unsubscribeMessageSchema,
  pingMessageSchema,
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

export const serverMessageSchema = z.discriminatedUnion('type', [
  z.object({ v: z.literal(WIRE_VERSION), type: z.literal('hello'), server: z.string(), heartbeatMs: z.number(), streams: z.array(z.string()) }),
  z.object({ v: z.literal(WIRE_VERSION), type: z.literal('subscribed'), id: requestId, streams: z.array(z.string()), channels: z.array(channelSchema) }),
  z.object({ v: z.literal(WIRE_VERSION), type: z.literal('unsubscribed'), id: requestId, streams: z.array(z.string()), channels: z.array(channelSchema) }),
  z.object({ v: z.literal(WIRE_VERSION), type: z.literal('result'), result: streamResultSchema }),
  z.object({ v: z.literal(WIRE_VERSION), type: z.literal('state'), state: streamStateSchema }),
  /** This client fell behind: `count` messages of `channel` for `streamId` were dropped for it so far. */
  z.object({ v: z.literal(WIRE_VERSION), type: z.literal('dropped'), streamId: z.string(), channel: channelSchema, count: z.number().int() }),
  z.object({ v: z.literal(WIRE_VERSION), type: z.literal('error'), id: requestId, code: z.string(), message: z.string() }),
  z.object({ v: z.literal(WIRE_VERSION), type: z.literal('pong'), id: requestId, ts: z.number() }),
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;

/** Header of a binary WebSocket frame message: [u32 BE header length][header JSON, UTF-8][JPEG bytes]. */
export const frameHeaderSchema = z.object({
  v: z.literal(WIRE_VERSION),
  type: z.literal('frame'),
  streamId: z.string(),
  seq: z.number().int().nonnegative(),
  captureTs: z.number(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  annotated: z.boolean(),
});
export type FrameHeader = z.infer<typeof frameHeaderSchema>;

export function encodeFrameMessage(header: FrameHeader, jpeg: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const message = new Uint8Array(4 + json.length + jpeg.length);
  new DataView(message.buffer).setUint32(0, json.length, false);
  message.set(json, 4);
  message.set(jpeg, 4 + json.length);
  return message;
}

export function decodeFrameMessage(message: Uint8Array): { header: FrameHeader; jpeg: Uint8Array } {
  if (message.length < 4) throw new Error('frame message shorter than its length prefix');
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const headerLength = view.getUint32(0, false);
  if (4 + headerLength > message.length) throw new Error('frame message header length exceeds the message');
  const header = frameHeaderSchema.parse(JSON.parse(new TextDecoder().decode(message.subarray(4, 4 + headerLength))));
  return { header, jpeg: message.subarray(4 + headerLength) };
}
