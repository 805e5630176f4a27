/**
 * Every Redis key and BullMQ queue name posestream uses, versioned with the wire format. Roles meet only here.
 *
 * Layout (Redis-Cluster ready): every key of one stream carries the hash tag `{<streamId>}`, so a stream's keys live
 * in one slot; the global keys share the tag `{_global}` (no stream id can start with "_", so it never collides with
 * a stream's). No script or MULTI may touch keys of two different tags: a stream's frames, results and state commit
 * together; two streams, or a stream and a global key, never do.
 *
 * Per stream, `ps:v1:{<id>}:<name>`:
 *   frames       STREAM  ingest -> workers. Entries {m: frame or end marker JSON, px: RGB bytes} (pipeline/redis/codec.ts).
 *                        Consumer group FRAME_CONSUMER_GROUP. Bounded: live = MAXLEN ingest.liveQueueLength (oldest
 *                        dropped), lossless = ingest waits while XLEN >= ingest.losslessQueueLength. Workers XACK+XDEL.
 *   results      STREAM  workers -> gateway/watchers. Entries {r: StreamResult JSON}; MAXLEN ~results.retention.
 *   preview      STREAM  workers -> gateway, only while `viewers` exists: {r: PoseResult JSON, m, px};
 *                        MAXLEN PREVIEW_LENGTH. Lets the gateway draw a result on exactly its own frame.
 *   viewers      STRING  gateway sets it (with a TTL, refreshed) while a client watches frames of the stream.
 *   lease        STRING  the inference process that owns the stream's frames (PX leaseMs, renewed). One owner per
 *                        stream keeps its results in seq order across workers; a dead owner's lease expires and the
 *                        next owner claims its unacknowledged frames first.
 *   stage-state  HASH    result stage name -> that stage's saved state for the stream (JSON), written in the same
 *                        MULTI as the results it belongs to; handed to the stage when a worker acquires the stream.
 *   events       STREAM  event engine -> notifier/gateway: {e: PoseEvent JSON} (codec encodePoseEventFields),
 *                        retention by age. Consumer groups notifyGroup(kind), one per notifier sink kind.
 *   event-snapshot:<eventId>  STRING  annotated JPEG of an event's decisive frame, same retention as the event.
 *   ingest       HASH    the ingest record: what Redis accepted of the stream's source, written by the same script as
 *                        each frame's XADD (scripts/publish-frame-2.lua). Fields: token (fencing token of the current
 *                        owner: HINCRBY at each acquisition; a publish with an older token is refused), seq (the next
 *                        seq), pts (source position of the last accepted frame, ns; empty when unknown), source
 *                        (fingerprint of the source settings the position belongs to), owner (process id). A
 *                        (re)started ingest resumes the source right after `pts` with `seq` (exactly-once lossless).
 *
 * Global, `ps:v1:{_global}:<name>`:
 *   streams        HASH    id -> stream definition JSON: the registry of desired streams (config + REST).
 *   stream-state   HASH    id -> StreamState JSON: what ingest reports.
 *   events         STREAM  registry changes and state changes {e: JSON}; MAXLEN ~EVENTS_LENGTH.
 *   workers        ZSET    inference process id -> last heartbeat (ms); members not seen for worker.claimIdleMs are
 *                          dead. Workers size their fair share of streams from it.
 *   worker:<pid>   HASH    per-process heartbeat and utilisation, TTL WORKER_INFO_TTL_SEC.
 *   seeded         STRING  written right after the config's streams were seeded ({by, at} JSON). A Redis that lost
 *                          its data (restarted without persistence, FLUSHALL) has no marker: the roles that seed
 *                          (gateway, ingest) notice within SEED_CHECK_MS and seed again; /readyz is not ready meanwhile.
 *   ingests        ZSET    ingest process id -> last heartbeat (ms). A stream state written by an ingest names it as
 *                          owner; the gateway shows the stream stale/orphaned when the owner's heartbeat is old.
 */
export const KEY_PREFIX = 'ps:v1:';

const GLOBAL_TAG = '{_global}';
const perStream = (name: string) => (streamId: string) => `${KEY_PREFIX}{${streamId}}:${name}`;
const globalKey = (name: string) => `${KEY_PREFIX}${GLOBAL_TAG}:${name}`;

export const keys = {
  frames: perStream('frames'),
  results: perStream('results'),
  preview: perStream('preview'),
  viewers: perStream('viewers'),
  lease: perStream('lease'),
  stageState: perStream('stage-state'),
  poseEvents: perStream('events'),
  ingestRecord: perStream('ingest'),
  eventSnapshot: (streamId: string, eventId: string) => perStream(`event-snapshot:${eventId}`)(streamId),
  streams: globalKey('streams'),
  streamState: globalKey('stream-state'),
  events: globalKey('events'),
  workers: globalKey('workers'),
  workerInfo: (processId: string) => globalKey(`worker:${processId}`),
  seedMarker: globalKey('seeded'),
  ingests: globalKey('ingests'),
} as const;

/** The stream id of a per-stream key (its hash tag), e.g. for the key names XREAD replies carry. */
export function streamIdOfKey(key: string): string {
  const match = /^ps:v1:\{([^}]+)\}:/.exec(key);
  if (!match || `{${match[1]}}` === GLOBAL_TAG) throw new Error(`not a per-stream key: ${key}`);
  return match[1]!;
}

/**
 * Keys of the single-instance layout before hash tags (posestream up to the seams change), read once by
 * StreamRegistry.migrateLegacyLayout so REST-added streams and ended-file states survive the upgrade. Nothing else uses them.
 */
export const LEGACY_KEYS = {
  streams: `${KEY_PREFIX}streams`,
  streamState: `${KEY_PREFIX}stream-state`,
} as const;

/** Consumer group on every poseEvents stream per notifier sink kind, so each kind resumes on its own. */
export const notifyGroup = (sinkKind: string) => `notify:${sinkKind}`;

export const FRAME_CONSUMER_GROUP = 'workers';
export const PREVIEW_LENGTH = 4;
export const EVENTS_LENGTH = 1_000;
export const VIEWERS_TTL_SEC = 10;
export const WORKER_INFO_TTL_SEC = 15;

/** BullMQ: one long-running job per stream, held by the ingest process that runs it. Hash-tagged as BullMQ asks. */
export const BULL_PREFIX = `{${KEY_PREFIX}bull}`;
export const INGEST_QUEUE = 'ingest';
