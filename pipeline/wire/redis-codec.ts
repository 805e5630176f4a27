import { z } from 'zod';
import {
  frameMetaSchema,
  poseEventSchema,
  streamResultSchema,
  streamStateSchema,
  WIRE_VERSION,
  type FrameMeta,
  type PoseEvent,
  type StreamResult,
  type StreamState,
} from './v1.js';

/**
 * Redis stream entries <-> typed objects. Metadata travels as one small JSON field, pixels as one binary field,
 * never JSON or base64. Decoders validate, because Redis is a boundary shared with other processes and versions.
 */

export const frameEndSchema = z.object({
  v: z.literal(WIRE_VERSION),
  kind: z.literal('eos'),
  streamId: z.string(),
  lastSeq: z.number().int().min(-1),
  reason: z.enum(['eof', 'removed', 'disabled', 'error']),
  message: z.string().optional(),
});
export type FrameEnd = z.infer<typeof frameEndSchema>;

export const frameEntryMetaSchema = z.discriminatedUnion('kind', [
  frameMetaSchema.extend({ kind: z.literal('frame') }),
  frameEndSchema,
]);

export type FrameEntry =
  | { kind: 'frame'; meta: FrameMeta; pixels: Buffer }
  | { kind: 'eos'; end: FrameEnd };

/** Field list for XADD of one frame. */
export function encodeFrameFields(meta: FrameMeta, pixels: Buffer): (string | Buffer)[] {
  return ['m', JSON.stringify({ ...meta, kind: 'frame' }), 'px', pixels];
}

export function encodeFrameEndFields(end: FrameEnd): string[] {
  return ['m', JSON.stringify(end)];
}

/** Fields as returned by ioredis *Buffer commands: [name, value, name, value, ...]. */
export function decodeFrameFields(fields: Buffer[]): FrameEntry {
  let metaText: string | undefined;
  let pixels: Buffer | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString();
    if (name === 'm') metaText = fields[i + 1]!.toString();
    else if (name === 'px') pixels = fields[i + 1];
  }
  if (metaText === undefined) throw new Error('frame entry without metadata field "m"');
  const parsed = frameEntryMetaSchema.parse(JSON.parse(metaText));
  if (parsed.kind === 'eos') return { kind: 'eos', end: parsed };
  const { kind: _kind, ...meta } = parsed;
  if (!pixels) throw new Error(`frame ${meta.streamId}#${meta.seq} has no pixel field "px"`);
  const expected = meta.width * meta.height * 3;
  if (pixels.length !== expected) {
    throw new Error(`frame ${meta.streamId}#${meta.seq}: ${pixels.length} pixel bytes, expected ${expected}`);
  }
  return { kind: 'frame', meta, pixels };
}

export function encodeResult(result: StreamResult): string {
  return JSON.stringify(result);
}

export function decodeResult(text: string): StreamResult {
  return streamResultSchema.parse(JSON.parse(text));
}

export function encodeState(state: StreamState): string {
  return JSON.stringify(state);
}

export function decodeState(text: string): StreamState {
  return streamStateSchema.parse(JSON.parse(text));
}

/** A poseEvents entry's POSE_EVENT_FIELD value. */
export function encodePoseEvent(event: PoseEvent): string {
  return JSON.stringify(poseEventSchema.parse(event));
}

export function decodePoseEvent(text: string): PoseEvent {
  return poseEventSchema.parse(JSON.parse(text));
}
