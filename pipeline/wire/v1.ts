import { z } from 'zod';
import { FRAME_FORMATS } from '../image/i420.js';

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
  /** Tracking this frame (a result stage after postMs), when the stream is tracked. */
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
  /** Media time of the frame, ms (FrameMeta.ptsMs); absent when the source has none. */
  ptsMs: finite.optional(),
  persons: z.array(personSchema),
  timings: stageTimingsSchema,
  worker: z.string(),
  /** When the worker published it, ms since the Unix epoch (worker clock). */
  publishedTs: finite,
});
export type PoseResult = z.infer<typeof poseResultSchema>;

/** Why a stream ended: its file ended, it was removed or disabled, or its source failed for good. */
export const END_OF_STREAM_REASONS = ['eof', 'removed', 'disabled', 'error'] as const;

export const endOfStreamSchema = z.object({
  v: z.literal(WIRE_VERSION),
  kind: z.literal('eos'),
  streamId: streamIdSchema,
  /** Sequence number of the last frame of the stream (-1 when it produced none). */
  lastSeq: z.number().int().min(-1),
  reason: z.enum(END_OF_STREAM_REASONS),
  message: z.string().optional(),
  publishedTs: finite,
});
export type EndOfStream = z.infer<typeof endOfStreamSchema>;

/** What a results stream carries, in order: pose results and finally, for finite sources, an end-of-stream. */
export const streamResultSchema = z.discriminatedUnion('kind', [poseResultSchema, endOfStreamSchema]);
export type StreamResult = z.infer<typeof streamResultSchema>;

/**
 * What ingest reports, plus two states only readers derive (pipeline/streams/owner-liveness.ts): `stale`, the owner
 * of a starting/running/reconnecting stream has not sent a heartbeat for a few seconds; `orphaned`, long enough that
 * it is taken for dead (the stream moves to another ingest process shortly after). `reason` says since when.
 */
export const STREAM_STATES = ['pending', 'starting', 'running', 'reconnecting', 'error', 'ended', 'stopped', 'stale', 'orphaned'] as const;
export type StreamStateName = (typeof STREAM_STATES)[number];
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
// Frames on Redis: metadata in small fields, pixels in one binary field (see pipeline/redis/codec.ts).

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
  /** Media time of the frame in the source, ms (stream time; keeps increasing across loops of a file). Unlike
   * captureTs it advances at the source's own pace, also for lossless files processed faster than real time. */
  ptsMs: finite.optional(),
  /**
   * Pixel layout (pipeline/image/i420.ts): 'rgb24', or 'i420' (half the bytes; the model converts the colour in its
   * graph). Entries written before I420 existed carry 'rgb24'; absent means 'rgb24' too.
   */
  format: z.enum(FRAME_FORMATS).default('rgb24'),
});
export type FrameMeta = z.infer<typeof frameMetaSchema>;

/** The end marker ingest appends to a frame stream behind its last frame; a worker publishes it as an EndOfStream. */
export const frameEndSchema = endOfStreamSchema.omit({ publishedTs: true });
export type FrameEnd = z.infer<typeof frameEndSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Pose events: what happened, derived in seq order from tracked results by the event engine. Stored per stream
// in Redis (bounded by age), delivered over WebSocket, REST, MQTT and webhooks. Events are points in time; a
// durational condition is a pair (fall -> recovered, zone_enter -> zone_exit) or carries its duration in
// `attributes` (dwell).

export const POSE_EVENT_TYPES = [
  'fall', 'recovered', 'posture', 'hands_raised', 'zone_enter', 'zone_exit', 'dwell', 'occupancy', 'line_cross',
] as const;
export const poseEventTypeSchema = z.enum(POSE_EVENT_TYPES);
export type PoseEventType = z.infer<typeof poseEventTypeSchema>;

export const POSTURES = ['standing', 'sitting', 'lying', 'crouching', 'unknown'] as const;
export const postureSchema = z.enum(POSTURES);
export type Posture = z.infer<typeof postureSchema>;

export const poseEventSchema = z.object({
  v: z.literal(WIRE_VERSION),
  kind: z.literal('event'),
  /**
   * Unique per stream + track + type + start seq (+ zone or line): `<streamId>:<type>:<trackId|->:<seq>[:<zone|line>]`.
   * The same condition re-detected after a worker hand-over gets the same id, so consumers can de-duplicate.
   */
  id: z.string().min(1).max(256),
  streamId: streamIdSchema,
  type: poseEventTypeSchema,
  /** The tracked person; absent for stream-level events (occupancy). */
  trackId: z.number().int().nonnegative().optional(),
  /** Seq and capture time of the frame where the condition started (e.g. the onset of a fall). */
  seq: z.number().int().nonnegative(),
  captureTs: finite,
  /** Media time of that frame (ms), when the source has one. */
  ptsMs: finite.optional(),
  /** The decisive frame: where the rule fired (its snapshot, when there is one, shows this frame). */
  atSeq: z.number().int().nonnegative(),
  atCaptureTs: finite,
  /** Media time of the decisive frame (ms), when the source has one: where in a recording the rule fired. */
  atPtsMs: finite.optional(),
  confidence: z.number().min(0).max(1),
  zone: z.string().min(1).max(64).optional(),
  line: z.string().min(1).max(64).optional(),
  /** line_cross: which way the line was crossed, relative to its a -> b direction. */
  direction: z.enum(['left_to_right', 'right_to_left']).optional(),
  /** Rule-specific details (posture, durations, occupancy count, ...): flat, JSON-friendly values only. */
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  /** An annotated JPEG of the decisive frame is stored with the event (REST: /api/events/:id/snapshot.jpg). */
  snapshot: z.boolean(),
  /** When the worker published it, ms since the Unix epoch. */
  publishedTs: finite,
});
export type PoseEvent = z.infer<typeof poseEventSchema>;

// ---------------------------------------------------------------------------------------------------------------
// WebSocket API. Text messages are JSON objects of the schemas below; annotated frames are binary messages.

/** events: the stream's pose events (PoseEvent), and its end-of-stream result so followers know when it ended. */
export const CHANNELS = ['results', 'frames', 'state', 'events'] as const;
export const channelSchema = z.enum(CHANNELS);
export type Channel = z.infer<typeof channelSchema>;

/** Largest client message the gateway accepts, in bytes. */
export const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;

const requestId = z.string().max(64).optional();

/**
 * Where a consumer is in a stream's results or events: the Redis entry id of the last message it received
 * (`<ms>-<n>`), carried as `cursor` on every result and event message. Subscribing with `after` resumes strictly
 * after it: what Redis still retains is replayed, then live, without a gap or a repeat (see docs/websocket-api.md).
 */
export const cursorSchema = z.string().regex(/^\d{1,20}-\d{1,20}$/, 'must be a cursor received from the gateway (<ms>-<n>)');
export type Cursor = z.infer<typeof cursorSchema>;

/** Orders two cursors (Redis stream entry ids): negative when a is older than b. */
export function compareCursors(a: string, b: string): number {
  const [aMs = '0', aSeq = '0'] = a.split('-');
  const [bMs = '0', bSeq = '0'] = b.split('-');
  const ms = BigInt(aMs) - BigInt(bMs);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(aSeq) - BigInt(bSeq);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** Per stream: the last cursor seen on its results and on its events channel. */
export const streamCursorsSchema = z.record(
  z.string().min(1).max(64),
  z.object({ results: cursorSchema.optional(), events: cursorSchema.optional() }).strict(),
);
export type StreamCursors = z.infer<typeof streamCursorsSchema>;

export const subscribeMessageSchema = z
  .object({
    v: z.literal(WIRE_VERSION),
    type: z.literal('subscribe'),
    id: requestId,
    /** Stream ids, or ["*"] for every stream, including ones added later. */
    streams: z.array(z.string().min(1).max(64)).min(1).max(256),
    channels: z.array(channelSchema).min(1),
    /** results, events: first replay what is retained in Redis, then follow live (each exactly once, in order). */
    fromStart: z.boolean().optional(),
    /** frames: skeletons drawn by the server (default true); false gives the plain frame for client-side overlays. */
    annotated: z.boolean().optional(),
    /**
     * results, events: resume these streams strictly after these cursors (replay what Redis retains after them, then
     * live); takes precedence over `fromStart` for the streams and channels it names. Each key must be subscribed.
     */
    after: streamCursorsSchema.optional(),
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
  z.object({
    v: z.literal(WIRE_VERSION),
    type: z.literal('subscribed'),
    id: requestId,
    streams: z.array(z.string()),
    channels: z.array(channelSchema),
    /**
     * results, events followed live (no `fromStart` or `after` replay): per stream, the cursor live delivery starts
     * after. A client that gets disconnected before its first message resumes from here without a gap.
     */
    cursors: streamCursorsSchema.optional(),
  }),
  z.object({ v: z.literal(WIRE_VERSION), type: z.literal('unsubscribed'), id: requestId, streams: z.array(z.string()), channels: z.array(channelSchema) }),
  /** `cursor`: the result's position in its stream's results (resume with `after`). */
  z.object({ v: z.literal(WIRE_VERSION), type: z.literal('result'), result: streamResultSchema, cursor: cursorSchema.optional() }),
  z.object({ v: z.literal(WIRE_VERSION), type: z.literal('state'), state: streamStateSchema }),
  /** `cursor`: the event's position in its stream's events (resume with `after`). */
  z.object({ v: z.literal(WIRE_VERSION), type: z.literal('event'), event: poseEventSchema, cursor: cursorSchema.optional() }),
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
