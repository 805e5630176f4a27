/**
 * Every Redis key and BullMQ queue name posestream uses, versioned with the wire format. Roles meet only here.
 *
 *   frames(id)      STREAM  ingest -> workers. Entries {m: FrameEntry JSON, px: RGB bytes}. Consumer group
 *                           FRAME_CONSUMER_GROUP. Bounded: live = MAXLEN ~ingest.liveQueueLength (oldest dropped),
 *                           lossless = ingest waits while XLEN >= ingest.losslessQueueLength. Workers XACK+XDEL.
 *   results(id)     STREAM  workers -> gateway/watchers. Entries {r: StreamResult JSON}; MAXLEN ~results.retention.
 *   preview(id)     STREAM  workers -> gateway, only while viewers(id) exists: {r: PoseResult JSON, m, px};
 *                           MAXLEN ~PREVIEW_LENGTH. Lets the gateway draw a result on exactly its own frame.
 *   viewers(id)     STRING  gateway sets it (with a TTL, refreshed) while a client watches frames of the stream.
 *   streams         HASH    id -> StreamConfig JSON: the registry of desired streams (config + REST).
 *   streamState     HASH    id -> StreamState JSON: what ingest reports.
 *   events          STREAM  registry changes and state changes {e: JSON}; MAXLEN ~EVENTS_LENGTH.
 *   workerInfo(id)  HASH    per-process heartbeat and utilisation, TTL WORKER_INFO_TTL_SEC.
 *   workers         ZSET    inference process id -> last heartbeat (ms); members not seen for worker.claimIdleMs are
 *                           dead. Workers size their fair share of streams from it.
 *   lease(id)       STRING  the inference process that owns a stream's frames (PX leaseMs, renewed). One owner per
 *                           stream keeps its results in seq order across workers; a dead owner's lease expires and
 *                           the next owner claims its unacknowledged frames first.
 *   poseEvents(id)  STREAM  event engine -> notifier/gateway: {e: PoseEvent JSON} (POSE_EVENT_FIELD), retention by
 *                           age. Consumer groups notifyGroup(kind), one per sink kind (mqtt, webhook).
 *   eventSnapshot(id, eventId)  STRING  annotated JPEG of an event's decisive frame, same retention as the event.
 * Per-stream keys written in the {<streamId>} hash-tag layout keep one stream's keys in one Redis Cluster slot.
 */
export const KEY_PREFIX = 'ps:v1:';

export const keys = {
  frames: (streamId: string) => `${KEY_PREFIX}frames:${streamId}`,
  results: (streamId: string) => `${KEY_PREFIX}results:${streamId}`,
  preview: (streamId: string) => `${KEY_PREFIX}preview:${streamId}`,
  viewers: (streamId: string) => `${KEY_PREFIX}viewers:${streamId}`,
  streams: `${KEY_PREFIX}streams`,
  streamState: `${KEY_PREFIX}stream-state`,
  events: `${KEY_PREFIX}events`,
  workerInfo: (processId: string) => `${KEY_PREFIX}worker:${processId}`,
  workers: `${KEY_PREFIX}workers`,
  lease: (streamId: string) => `${KEY_PREFIX}lease:${streamId}`,
  poseEvents: (streamId: string) => `${KEY_PREFIX}{${streamId}}:events`,
  eventSnapshot: (streamId: string, eventId: string) => `${KEY_PREFIX}{${streamId}}:event-snapshot:${eventId}`,
} as const;

/** The one field of a poseEvents entry: the PoseEvent as JSON. */
export const POSE_EVENT_FIELD = 'e';
/** Consumer group on every poseEvents stream per notifier sink kind, so each kind resumes on its own. */
export const notifyGroup = (sinkKind: string) => `notify:${sinkKind}`;

export const FRAME_CONSUMER_GROUP = 'workers';
export const PREVIEW_LENGTH = 4;
export const EVENTS_LENGTH = 1_000;
export const VIEWERS_TTL_SEC = 10;
export const WORKER_INFO_TTL_SEC = 15;

/** BullMQ: one long-running job per stream, held by the ingest process that runs it. */
export const BULL_PREFIX = 'ps:v1:bull';
export const INGEST_QUEUE = 'ingest';
