import type { Redis } from 'ioredis';
import { encodePoseEventFields } from '../../pipeline/redis/codec.js';
import { keys } from '../../pipeline/redis/keys.js';
import { WIRE_VERSION, type PoseEvent } from '../../pipeline/wire/v1.js';

/** A valid wire-v1 pose event; the id follows the schema's rule from stream, type, track, seq and zone. */
export function poseEvent(fields: Partial<PoseEvent> & Pick<PoseEvent, 'streamId' | 'type'>): PoseEvent {
  const seq = fields.seq ?? 100;
  const captureTs = fields.captureTs ?? 1_700_000_000_000 + seq * 40;
  const trackId = fields.type === 'occupancy' ? fields.trackId : (fields.trackId ?? 1);
  const where = fields.zone ?? fields.line;
  const id = fields.id ?? `${fields.streamId}:${fields.type}:${trackId ?? '-'}:${seq}${where ? `:${where}` : ''}`;
  return {
    v: WIRE_VERSION,
    kind: 'event',
    id,
    seq,
    captureTs,
    atSeq: seq + 10,
    atCaptureTs: captureTs + 400,
    confidence: 0.9,
    attributes: {},
    snapshot: false,
    publishedTs: captureTs + 500,
    ...(trackId === undefined ? {} : { trackId }),
    ...fields,
  };
}

/** Appends an event exactly as the event engine does: one entry (codec encodePoseEventFields) on keys.poseEvents. */
export async function writePoseEvent(redis: Redis, event: PoseEvent, snapshot?: Buffer): Promise<string> {
  if (snapshot) await redis.set(keys.eventSnapshot(event.streamId, event.id), snapshot);
  return (await redis.xadd(keys.poseEvents(event.streamId), '*', ...encodePoseEventFields(event))) as string;
}
