import { frameBytes, frameFormatOf, type ModelInputFormat } from '../image/i420.js';
import type { StreamConfig } from '../streams/definition.js';
import { KEYPOINT_COUNT, WIRE_VERSION, type Keypoint, type PoseResult } from '../wire/v1.js';
import { isCluster, type RedisClient } from './client.js';
import { encodeResultEntry } from './codec.js';
import { PREVIEW_LENGTH } from './keys.js';

/**
 * How much Redis memory a configuration needs (estimate), and whether Redis is refusing writes right now (pressure).
 * Redis runs with `maxmemory-policy noeviction` (ARCHITECTURE.md): memory is bounded by the stream bounds alone, so
 * the bounds must fit maxmemory. `posestream check-config` prints this estimate.
 */

/** What one stream costs beyond its entries: consumer group, lease, state, BullMQ job (measured: a few KB). */
const PER_STREAM_OVERHEAD_BYTES = 16 * 1024;
/** An idle Redis with posestream's global keys (registry, events, BullMQ queue): about 1 MB. */
const BASE_BYTES = 1024 * 1024;
/** Per stream entry in a listpack/radix tree beyond its field values (id, field names, node headers). */
const STREAM_ENTRY_OVERHEAD_BYTES = 48;
/** Frame metadata JSON beside the pixels of a frame entry. */
const FRAME_META_BYTES = 400;
/** Assumed source aspect when sizing frames: the fitted frame is inputSize wide and 9/16 of it high. */
const ASSUMED_ASPECT = 9 / 16;
/** Results per second assumed for a stream without `fps` (the age bound then caps results at 30 × maxAgeSec). */
const ASSUMED_FPS = 30;

export interface MemoryAssumptions {
  /** Persons per frame (each with raw and smoothed keypoints: tracking with smoothing on is the larger case). */
  personsPerFrame: number;
  /** Pose events per stream per hour, each with its ~snapshot JPEG. */
  eventsPerHour: number;
  snapshotBytes: number;
}

export const DEFAULT_MEMORY_ASSUMPTIONS: MemoryAssumptions = { personsPerFrame: 2, eventsPerHour: 2, snapshotBytes: 60 * 1024 };

export interface MemorySettings {
  inputSize: number;
  /** How frames travel (`model.inputFormat`): I420 is half the bytes of RGB. */
  inputFormat: ModelInputFormat;
  liveQueueLength: number;
  losslessQueueLength: number;
  resultsRetention: number;
  resultsMaxAgeSec: number;
  eventsRetentionSec: number;
}

export interface StreamMemory {
  id: string;
  mode: StreamConfig['mode'];
  frames: number;
  results: number;
  events: number;
  preview: number;
  total: number;
}

export interface MemoryEstimate {
  streams: StreamMemory[];
  base: number;
  total: number;
  /** Bytes of one stored result under the assumptions (rounded JSON + entry overhead). */
  resultBytes: number;
  frameBytes: number;
}

/** Bytes of one fitted frame entry in the format frames travel in (the frames and preview streams hold these). */
export function frameEntryBytes(inputSize: number, inputFormat: ModelInputFormat): number {
  const height = Math.round(inputSize * ASSUMED_ASPECT);
  return frameBytes(frameFormatOf(inputFormat), inputSize, height) + FRAME_META_BYTES + STREAM_ENTRY_OVERHEAD_BYTES;
}

/** Bytes of one stored pose result with `persons` persons, measured by encoding a typical one as the worker does. */
export function resultEntryBytes(persons: number): number {
  const keypoints = Array.from({ length: KEYPOINT_COUNT }, (_, i): Keypoint => [1234.56789 + i, 567.891234 + i, 0.87654321]);
  const result: PoseResult = {
    v: WIRE_VERSION,
    kind: 'pose',
    streamId: 'camera-01',
    seq: 1_234_567,
    captureTs: 1_796_000_000_000.123,
    sourceWidth: 1920,
    sourceHeight: 1080,
    ptsMs: 12_345_678.9,
    persons: Array.from({ length: persons }, (_, i) => ({
      box: [100.123456, 200.654321, 300.98765, 800.5678],
      score: 0.912345678,
      keypoints,
      trackId: 100 + i,
      trackState: 'tracked' as const,
      trackAgeMs: 123_456.789,
      smoothedKeypoints: keypoints,
    })),
    timings: { decodeMs: 3.456789, queueMs: 12.345678, inferMs: 45.678901, postMs: 1.234567, trackMs: 0.345678 },
    worker: 'worker-hostname-12345',
    publishedTs: 1_796_000_000_100.456,
  };
  const [, text] = encodeResultEntry(result).result;
  return Buffer.byteLength(text!) + STREAM_ENTRY_OVERHEAD_BYTES;
}

/**
 * Redis memory for a configuration's streams when every bound is reached: frame queue (live or lossless bound) ×
 * frame size, retained results (the smaller of the count and age bounds), events with snapshots over their
 * retention, and the preview stream (only while watched; counted, as someone may watch every stream).
 */
export function estimateRedisMemory(
  streams: ReadonlyArray<Pick<StreamConfig, 'id' | 'mode' | 'fps'>>,
  settings: MemorySettings,
  assumptions: MemoryAssumptions = DEFAULT_MEMORY_ASSUMPTIONS,
): MemoryEstimate {
  const frameBytes = frameEntryBytes(settings.inputSize, settings.inputFormat);
  const resultBytes = resultEntryBytes(assumptions.personsPerFrame);
  const perStream = streams.map((stream): StreamMemory => {
    const queued = stream.mode === 'lossless' ? settings.losslessQueueLength : settings.liveQueueLength;
    const resultCount = Math.min(settings.resultsRetention, (stream.fps ?? ASSUMED_FPS) * settings.resultsMaxAgeSec);
    const eventCount = (assumptions.eventsPerHour * settings.eventsRetentionSec) / 3600;
    const frames = queued * frameBytes;
    const results = resultCount * resultBytes;
    const events = eventCount * (assumptions.snapshotBytes + 1024);
    const preview = PREVIEW_LENGTH * (frameBytes + resultBytes);
    return { id: stream.id, mode: stream.mode, frames, results, events, preview, total: frames + results + events + preview + PER_STREAM_OVERHEAD_BYTES };
  });
  return { streams: perStream, base: BASE_BYTES, total: BASE_BYTES + perStream.reduce((sum, s) => sum + s.total, 0), resultBytes, frameBytes };
}

/** "12.3 MB" (MiB, one decimal). */
export function formatBytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Fields of an INFO reply ("key:value" lines). */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/**
 * Why Redis refuses writes for lack of memory, or undefined: with maxmemory set and noeviction, a write is refused
 * once used_memory exceeds maxmemory. On a cluster each master is asked (one full node is enough to refuse).
 */
export async function redisOutOfMemory(redis: RedisClient): Promise<string | undefined> {
  const nodes = isCluster(redis) ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    const info = parseInfo(await node.info('memory'));
    const used = Number(info.get('used_memory'));
    const max = Number(info.get('maxmemory'));
    if (max > 0 && used >= max) return `redis out of memory: used ${formatBytes(used)} of maxmemory ${formatBytes(max)}`;
  }
  return undefined;
}
