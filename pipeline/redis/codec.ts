import { z } from 'zod';
import { frameBytes } from '../image/i420.js';
import { readStoredStream, storedStreamValue, type StoredStream } from '../streams/definition.js';
import {
  compareCursors,
  frameEndSchema,
  frameMetaSchema,
  poseEventSchema,
  poseResultSchema,
  registryEventSchema,
  streamResultSchema,
  streamStateSchema,
  type FrameEnd,
  type FrameMeta,
  type Keypoint,
  type Person,
  type PoseEvent,
  type PoseResult,
  type RegistryEvent,
  type StreamResult,
  type StreamState,
} from '../wire/v1.js';

/**
 * Redis entries <-> typed objects, and Redis replies -> plain shapes: the only module that knows a field name, the
 * position of anything in a reply, or how RESP2 and RESP3 differ. Metadata travels as one small JSON field, pixels
 * as one binary field (never JSON or base64). Decoders validate: Redis is a boundary shared with other processes
 * and versions. The messages themselves are defined in pipeline/wire/v1.ts and pipeline/streams/definition.ts.
 */

/** Field names of stream entries: m = frame metadata, px = pixels, r = result, e = registry event or pose event. */
export const FIELD = { meta: 'm', pixels: 'px', result: 'r', event: 'e' } as const;

// ---------------------------------------------------------------------------------------------------------------
// Reply shapes. ioredis returns strings or Buffers (the *Buffer commands) as they came; RESP3 maps arrive as a
// flattened [key, value, ...] array, a Map or an object depending on the command; every reader goes through here.

export type RedisValue = string | Buffer;

export interface RawStreamEntry<F extends RedisValue = string> {
  id: string;
  /** [name, value, name, value, ...]; null for an id whose entry was deleted (XAUTOCLAIM, XREADGROUP history). */
  fields: F[] | null;
}

function unexpected(what: string, reply: unknown): never {
  throw new Error(`unexpected ${what} reply from redis: ${JSON.stringify(reply)?.slice(0, 200)}`);
}

/** Pairs of a RESP3 map in any form ioredis hands it over: [k, v, ...], [[k, v], ...], a Map or an object. */
function mapPairs(reply: unknown): Array<[unknown, unknown]> {
  if (reply === null || reply === undefined) return [];
  if (reply instanceof Map) return [...reply.entries()];
  if (Array.isArray(reply)) {
    if (reply.length > 0 && Array.isArray(reply[0])) return reply.map((pair) => [(pair as unknown[])[0], (pair as unknown[])[1]]);
    const pairs: Array<[unknown, unknown]> = [];
    for (let i = 0; i + 1 < reply.length; i += 2) pairs.push([reply[i], reply[i + 1]]);
    return pairs;
  }
  if (typeof reply === 'object' && !Buffer.isBuffer(reply)) return Object.entries(reply);
  return unexpected('map', reply);
}

/** XRANGE / XREVRANGE (and the entry lists inside XREAD, XREADGROUP and XAUTOCLAIM). */
export function streamEntries<F extends RedisValue = string>(reply: unknown): Array<RawStreamEntry<F>> {
  if (reply === null || reply === undefined) return [];
  if (!Array.isArray(reply)) return unexpected('stream entries', reply);
  return reply.map((entry) => {
    if (!Array.isArray(entry) || entry.length < 2) return unexpected('stream entry', entry);
    return { id: String(entry[0]), fields: entry[1] === null ? null : (entry[1] as F[]) };
  });
}

/**
 * XREAD / XREADGROUP: each key with its new entries. RESP2 (and ioredis 5) gives [[key, entries], ...]; RESP3, which
 * ioredis 6 speaks by default, gives a map that arrives flattened as [key, entries, key, entries, ...].
 */
export function streamReadReply<F extends RedisValue = string>(reply: unknown): Array<{ key: string; entries: Array<RawStreamEntry<F>> }> {
  return mapPairs(reply).map(([key, entries]) => ({ key: String(key), entries: streamEntries<F>(entries) }));
}

/** XAUTOCLAIM: [next cursor, claimed entries, deleted ids (Redis >= 7)]. */
export function autoclaimReply<F extends RedisValue = string>(reply: unknown): { cursor: string; entries: Array<RawStreamEntry<F>> } {
  if (!Array.isArray(reply) || reply.length < 2) return unexpected('XAUTOCLAIM', reply);
  return { cursor: String(reply[0]), entries: streamEntries<F>(reply[1]) };
}

/** XPENDING key group start end count [consumer]: one row per pending entry. */
export function pendingEntries(reply: unknown): Array<{ id: string; consumer: string; idleMs: number; deliveries: number }> {
  if (!Array.isArray(reply)) return unexpected('XPENDING', reply);
  return reply.map((row) => {
    if (!Array.isArray(row) || row.length < 4) return unexpected('XPENDING row', row);
    return { id: String(row[0]), consumer: String(row[1]), idleMs: Number(row[2]), deliveries: Number(row[3]) };
  });
}

/** HGETALL, XINFO and other map replies as a record of string keys. */
export function replyRecord(reply: unknown): Record<string, unknown> {
  return Object.fromEntries(mapPairs(reply).map(([key, value]) => [String(key), value]));
}

/** The values of a MULTI/EXEC or pipeline, in order; the first failed command's error is thrown. */
export function execValues(replies: Array<[Error | null, unknown]> | null): unknown[] {
  if (replies === null) throw new Error('transaction aborted (EXEC returned null)');
  for (const [error] of replies) if (error) throw error;
  return replies.map(([, value]) => value);
}

/** A field's value in [name, value, ...]; names compare as text. */
export function fieldValue<F extends RedisValue>(fields: readonly F[], name: string): F | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i]!.toString() === name) return fields[i + 1];
  }
  return undefined;
}

function requiredField<F extends RedisValue>(fields: readonly F[], name: string, what: string): F {
  const value = fieldValue(fields, name);
  if (value === undefined) throw new Error(`${what} entry without field "${name}"`);
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Entry ids.

/**
 * Order of Redis stream entry ids ("<ms>-<seq>"). String comparison is wrong ("9-0" > "10-0"), and the parts can
 * exceed 2^53 in principle, so they are compared as BigInt.
 */
export const compareEntryIds = compareCursors;

// ---------------------------------------------------------------------------------------------------------------
// Frames: {m: metadata or end marker JSON, px: pixel bytes in meta.format (RGB24 or I420)}.

const frameEntryMetaSchema = z.discriminatedUnion('kind', [frameMetaSchema.extend({ kind: z.literal('frame') }), frameEndSchema]);

export type FrameEntry = { kind: 'frame'; meta: FrameMeta; pixels: Buffer } | { kind: 'eos'; end: FrameEnd };

/** Field list for XADD of one frame. */
export function encodeFrameFields(meta: FrameMeta, pixels: Buffer): Array<string | Buffer> {
  return [FIELD.meta, JSON.stringify({ ...meta, kind: 'frame' }), FIELD.pixels, pixels];
}

export function encodeFrameEndFields(end: FrameEnd): string[] {
  return [FIELD.meta, JSON.stringify(end)];
}

/** A frame entry as read with a *Buffer command; pixel size is checked against the metadata. */
export function decodeFrameFields(fields: readonly Buffer[]): FrameEntry {
  const parsed = frameEntryMetaSchema.parse(JSON.parse(requiredField(fields, FIELD.meta, 'frame').toString()));
  if (parsed.kind === 'eos') return { kind: 'eos', end: parsed };
  const { kind: _kind, ...meta } = parsed;
  const pixels = fieldValue(fields, FIELD.pixels);
  if (!pixels) throw new Error(`frame ${meta.streamId}#${meta.seq} has no pixel field "${FIELD.pixels}"`);
  checkPixels(`frame ${meta.streamId}#${meta.seq}`, meta, pixels);
  return { kind: 'frame', meta, pixels };
}

function checkPixels(what: string, meta: FrameMeta, pixels: Buffer): void {
  const expected = frameBytes(meta.format, meta.width, meta.height);
  if (pixels.length !== expected) throw new Error(`${what}: ${pixels.length} pixel bytes, expected ${expected}`);
}

/**
 * The sequence number an entry of a frames or results stream stands for (a frame's or result's seq, an end
 * marker's lastSeq); undefined for anything else. Ingest continues a stream's numbering after it.
 */
export function entrySeq(fields: readonly string[]): number | undefined {
  const text = fieldValue(fields, FIELD.meta) ?? fieldValue(fields, FIELD.result);
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as { seq?: unknown; lastSeq?: unknown };
    if (typeof value.seq === 'number') return value.seq;
    return typeof value.lastSeq === 'number' ? value.lastSeq : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Results {r: StreamResult JSON} and previews {r, m: FrameMeta JSON, px}.

export interface ResultEntry {
  entryId: string;
  result: StreamResult;
}

export interface PreviewFrame {
  meta: FrameMeta;
  pixels: Buffer;
}

/** XADD fields of a result and, when a frame is given, of its preview entry (the result is serialised once). */
export function encodeResultEntry(result: StreamResult, preview?: PreviewFrame): { result: string[]; preview?: Array<string | Buffer> } {
  const text = JSON.stringify(result.kind === 'pose' ? roundedResult(result) : result);
  if (!preview) return { result: [FIELD.result, text] };
  return { result: [FIELD.result, text], preview: [FIELD.result, text, FIELD.meta, JSON.stringify(preview.meta), FIELD.pixels, preview.pixels] };
}

const round = (value: number, decimals: number) => {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
};
const roundKeypoint = ([x, y, score]: Keypoint): Keypoint => [round(x, 1), round(y, 1), round(score, 3)];
const roundPerson = (person: Person): Person => ({
  ...person,
  box: [round(person.box[0], 1), round(person.box[1], 1), round(person.box[2], 1), round(person.box[3], 1)],
  score: round(person.score, 3),
  keypoints: person.keypoints.map(roundKeypoint),
  ...(person.smoothedKeypoints ? { smoothedKeypoints: person.smoothedKeypoints.map(roundKeypoint) } : {}),
  ...(person.trackAgeMs !== undefined ? { trackAgeMs: Math.round(person.trackAgeMs) } : {}),
});

/**
 * A result as stored: coordinates to 0.1 px, scores to 3 decimals, timings to 0.01 ms, times to whole ms. Detection
 * is not more precise than that, and full doubles cost about 2.5× the bytes (results are most of Redis's memory).
 */
export function roundedResult(result: PoseResult): PoseResult {
  const timings = Object.fromEntries(Object.entries(result.timings).map(([name, ms]) => [name, round(ms, 2)])) as PoseResult['timings'];
  return {
    ...result,
    captureTs: Math.round(result.captureTs),
    publishedTs: Math.round(result.publishedTs),
    ...(result.ptsMs !== undefined ? { ptsMs: round(result.ptsMs, 1) } : {}),
    persons: result.persons.map(roundPerson),
    timings,
  };
}

export function decodeResultFields(fields: readonly string[]): StreamResult {
  return streamResultSchema.parse(JSON.parse(requiredField(fields, FIELD.result, 'result')));
}

/** Decodes raw stream entries with `decode`; an undecodable one goes to onBad and is skipped. */
export function decodeEntries<T>(
  raw: Array<RawStreamEntry<string>>,
  decode: (entryId: string, fields: readonly string[]) => T,
  onBad: (entryId: string, error: Error) => void,
): T[] {
  const entries: T[] = [];
  for (const { id, fields } of raw) {
    try {
      entries.push(decode(id, fields ?? []));
    } catch (error) {
      onBad(id, error instanceof Error ? error : new Error(String(error)));
    }
  }
  return entries;
}

/** Decodes raw result entries; an undecodable one goes to onBad and is skipped. */
export function decodeResultEntries(raw: Array<RawStreamEntry<string>>, onBad: (entryId: string, error: Error) => void): ResultEntry[] {
  return decodeEntries(raw, (entryId, fields) => ({ entryId, result: decodeResultFields(fields) }), onBad);
}

/** A preview entry as read with a *Buffer command: the result, its frame, and a check that they belong together. */
export function decodePreviewFields(fields: readonly Buffer[]): { result: PoseResult } & PreviewFrame {
  const result = poseResultSchema.parse(JSON.parse(requiredField(fields, FIELD.result, 'result').toString()));
  const meta = frameMetaSchema.parse(JSON.parse(requiredField(fields, FIELD.meta, 'result').toString()));
  const pixels = requiredField(fields, FIELD.pixels, 'result');
  checkPixels(`preview ${meta.streamId}#${meta.seq}`, meta, pixels);
  if (result.seq !== meta.seq) throw new Error(`preview result #${result.seq} paired with frame #${meta.seq}`);
  return { result, meta, pixels };
}

// ---------------------------------------------------------------------------------------------------------------
// Registry: stream definitions and states (hash values, JSON), registry events {e: JSON}.

export function encodeStoredStream(stored: StoredStream): string {
  return JSON.stringify(storedStreamValue(stored));
}

/** Lenient (see readStoredStream): text that is not JSON at all is reported like any other unreadable entry. */
export function decodeStoredStream(text: string): ReturnType<typeof readStoredStream> {
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON: the schema names the problem.
  }
  return readStoredStream(value);
}

export function encodeState(state: StreamState): string {
  return JSON.stringify(state);
}

export function decodeState(text: string): StreamState {
  return streamStateSchema.parse(JSON.parse(text));
}

export function encodeRegistryEventFields(event: RegistryEvent): string[] {
  return [FIELD.event, JSON.stringify(event)];
}

/** undefined for an entry that is not a registry event this version knows (readers re-read the registry anyway). */
export function decodeRegistryEvent(fields: readonly string[] | null): RegistryEvent | undefined {
  const text = fields && fieldValue(fields, FIELD.event);
  if (text === undefined || text === null) return undefined;
  try {
    return registryEventSchema.parse(JSON.parse(text));
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Pose events {e: PoseEvent JSON} (keys.poseEvents): written by the event engine, read by the notifier and gateway.

export function encodePoseEventFields(event: PoseEvent): string[] {
  return [FIELD.event, JSON.stringify(poseEventSchema.parse(event))];
}

/** Throws when the entry has no event field or it does not match the schema. */
export function decodePoseEventFields(fields: readonly string[]): PoseEvent {
  return poseEventSchema.parse(JSON.parse(requiredField(fields, FIELD.event, 'pose event')));
}

// ---------------------------------------------------------------------------------------------------------------
// Worker heartbeat hash (keys.workerInfo).

export interface WorkerInfo {
  processId: string;
  host: string;
  pid: number;
  streams: string[];
  /** Share of time with inference in flight since the previous heartbeat, 0..1. */
  utilisation: number;
  inFlightBatches: number;
  heldFrames: number;
  workers: number;
  ts: number;
  /** The worker drops live frames because it cannot serve every frame offered (overload-monitor.ts). */
  overCapacity?: boolean;
}

export function encodeWorkerInfo(info: WorkerInfo): Record<string, string> {
  return {
    processId: info.processId,
    host: info.host,
    pid: String(info.pid),
    streams: JSON.stringify(info.streams),
    utilisation: info.utilisation.toFixed(3),
    inFlightBatches: String(info.inFlightBatches),
    heldFrames: String(info.heldFrames),
    workers: String(info.workers),
    ts: String(info.ts),
    ...(info.overCapacity === undefined ? {} : { overCapacity: info.overCapacity ? '1' : '0' }),
  };
}

/** The utilisation a heartbeat hash reports (older workers spelt it `utilization`), or undefined. */
export function workerUtilisation(hash: unknown): number | undefined {
  const record = replyRecord(hash);
  const value = record.utilisation ?? record.utilization;
  return value === undefined ? undefined : Number(value);
}

/** 1 or 0 from a worker's info hash; undefined when the worker does not report it (an older version). */
export function workerOverCapacity(hash: unknown): number | undefined {
  const value = replyRecord(hash).overCapacity;
  return value === undefined ? undefined : Number(value);
}

// ---------------------------------------------------------------------------------------------------------------
// Script replies.

/** take-newest-1.lua: the entries kept for this consumer (stream order) and how many older frames it dropped. */
export function takeNewestReply<F extends RedisValue = string>(reply: unknown): { entries: Array<RawStreamEntry<F>>; dropped: number } {
  if (!Array.isArray(reply) || reply.length < 2) return unexpected('take-newest', reply);
  return { entries: streamEntries<F>(reply[0]), dropped: Number(reply[1]) };
}

/**
 * publish-frame: {id ('' when the seq was already accepted), stale (live: trimmed before any worker read them), depth
 * (entries now in the stream), accepted (0: a repeated seq, nothing written)}.
 */
export function publishFrameReply(reply: unknown): { id: string; stale: number; depth: number; accepted: boolean } {
  if (!Array.isArray(reply) || reply.length < 4) return unexpected('publish-frame', reply);
  return { id: String(reply[0]), stale: Number(reply[1]), depth: Number(reply[2]), accepted: Number(reply[3]) === 1 };
}
