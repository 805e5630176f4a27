import { z } from 'zod';
import { eventRulesSchema, storedEventRulesSchema } from '../events/config.js';
import { PosestreamError } from '../errors.js';
import { storedStreamTrackingSchema, streamTrackingSchema } from '../tracking/config.js';
import { redactUrl } from '../obs/redact.js';
import { formatZodIssues } from '../zod-issues.js';

/**
 * What a stream is: the one definition shared by the config file (`streams:`), the REST API and the registry in
 * Redis. Config and REST input is strict (a misspelt key is an error); entries stored in the registry are read
 * leniently (readStoredStream), because a newer posestream may have added settings this version does not know.
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
      return `is not a valid URL: "${redactUrl(url)}"`;
    }
    if (!(SUPPORTED_SCHEMES as readonly string[]).includes(parsed.protocol)) {
      return `unsupported scheme "${parsed.protocol}" (use rtsp://, rtsps://, http(s)://, file://, v4l2://, test://)`;
    }
    if (['rtsp:', 'rtsps:', 'http:', 'https:'].includes(parsed.protocol) && parsed.hostname === '') {
      return `has no host: "${redactUrl(url)}"`;
    }
    if (parsed.protocol === 'test:' && !(TEST_PATTERNS as readonly string[]).includes(parsed.hostname)) {
      return `unknown test pattern "${parsed.hostname}" (one of ${TEST_PATTERNS.join(', ')})`;
    }
    return undefined;
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(url) && !/^[A-Za-z]:[\\/]/.test(url)) {
    return `unsupported URL "${redactUrl(url)}" (expected scheme://... or a file path)`;
  }
  return undefined;
}

export const streamModeSchema = z.enum(['live', 'lossless']);

/** The settings that may change on a registered stream (REST PATCH, StreamRegistry.update); id and url may not. */
const patchableFields = {
  enabled: z.boolean(),
  /** Upper bound on frames per second taken from the source; frames above it are dropped at the source. */
  fps: z.number().positive().max(240),
  /**
   * live: only the newest frames are kept (stale frames are dropped and counted), latency stays bounded.
   * lossless: every frame is inferred; when the queue is full the source is held back instead.
   */
  mode: streamModeSchema,
  /** Files only: start again at EOS instead of ending the stream. */
  loop: z.boolean(),
  /** Who is who: track ids on persons (pipeline/tracking/config.ts). Absent = tracked with the defaults. */
  tracking: streamTrackingSchema,
  /**
   * Event rules of this stream: fall, posture and hands-raised thresholds, zones and lines (pipeline/events/config.ts).
   * Absent: the defaults, no zones or lines. A PATCH replaces the whole object.
   */
  events: eventRulesSchema,
};
export type PatchableStreamField = keyof typeof patchableFields;
export const PATCHABLE_STREAM_FIELDS = Object.keys(patchableFields) as PatchableStreamField[];

/** A stream id (also the shape of other names used in keys, topics and metric labels, e.g. webhook names). */
export const streamIdFormat = z.string().regex(STREAM_ID_PATTERN, 'must be 1-64 characters: letters, digits, "_" or "-", starting with a letter or digit');

const streamShape = {
  id: streamIdFormat,
  url: z.string().superRefine((url, ctx) => {
    const problem = describeUrlProblem(url);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  fps: patchableFields.fps.optional(),
  loop: patchableFields.loop.default(false),
  enabled: patchableFields.enabled.default(true),
  mode: patchableFields.mode.default('live'),
  tracking: patchableFields.tracking.optional(),
  events: patchableFields.events.optional(),
};

/** A `streams:` entry of the config and the body of POST /api/streams. */
export const streamSchema = z.object(streamShape).strict();

export type StreamConfig = z.infer<typeof streamSchema>;
export type StreamConfigInput = z.input<typeof streamSchema>;

/**
 * The current definition of each stream as a role sees it (the worker: its StreamDirectory, kept current from the
 * registry). Per-stream settings of result stages (tracking, events) are read through it, so a change takes effect
 * without a restart.
 */
export interface StreamDefinitions {
  definition(streamId: string): StreamConfig | undefined;
}

/** What a stream's source (the ingest pipeline) depends on: everything but the worker-side settings. */
export function sourceSettings(stream: StreamConfig): Omit<StreamConfig, 'tracking' | 'events'> {
  const { tracking: _tracker, events: _eventEngine, ...source } = stream;
  return source;
}

const patchFieldList = PATCHABLE_STREAM_FIELDS.join(', ');

/** The body of PATCH /api/streams/:id and the argument of StreamRegistry.update: some patchable fields, no others. */
export const streamPatchSchema = z
  .object({
    enabled: patchableFields.enabled.optional(),
    fps: patchableFields.fps.optional(),
    mode: patchableFields.mode.optional(),
    loop: patchableFields.loop.optional(),
    tracking: patchableFields.tracking.optional(),
    events: patchableFields.events.optional(),
  } satisfies Record<PatchableStreamField, z.ZodType>)
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, { message: `nothing to change: give ${patchFieldList.replace(/, (?=[^,]*$)/, ' or ')}` });

export type StreamPatch = z.infer<typeof streamPatchSchema>;

export function parseStream(input: unknown): StreamConfig {
  const parsed = streamSchema.safeParse(input);
  if (!parsed.success) {
    throw new PosestreamError('PS_STREAM_INVALID', `invalid stream: ${formatZodIssues(parsed.error, '(stream)').join('; ')}`);
  }
  return parsed.data;
}

/** A patch with only patchable fields; any other field is named as one that cannot be changed. */
export function parseStreamPatch(input: Record<string, unknown>): StreamPatch {
  const fixed = Object.keys(input).filter((field) => !(PATCHABLE_STREAM_FIELDS as string[]).includes(field));
  if (fixed.length > 0) {
    throw new PosestreamError('PS_STREAM_INVALID', `invalid stream patch: ${fixed.join(', ')}: cannot be changed (only ${patchFieldList})`);
  }
  const parsed = streamPatchSchema.safeParse(input);
  if (!parsed.success) {
    throw new PosestreamError('PS_STREAM_INVALID', `invalid stream patch: ${formatZodIssues(parsed.error, '(patch)').join('; ')}`);
  }
  return parsed.data;
}

/**
 * Who registered a stream: 'config' (the operator's file: any source) or 'api' (REST: only what sourcePolicy allows,
 * checked again by the ingest before every open). Stored with the entry, never taken from a request body.
 */
export const STREAM_ORIGINS = ['config', 'api'] as const;
export type StreamOrigin = (typeof STREAM_ORIGINS)[number];

/**
 * A registry entry as stored: the stream this version understands, its origin, and every field it does not know
 * (`extra`), which it keeps and writes back unchanged, so a setting added by a newer posestream survives an older
 * one. An entry without a known origin (written before origins were recorded, or by a newer version) is treated
 * as 'api' wherever it matters (effectiveOrigin): the stricter rules apply until the config names it again.
 */
export interface StoredStream {
  stream: StreamConfig;
  origin?: StreamOrigin;
  extra: Record<string, unknown>;
}

export function effectiveOrigin(stored: Pick<StoredStream, 'origin'>): StreamOrigin {
  return stored.origin ?? 'api';
}

const storedStreamSchema = z.object({ ...streamShape, tracking: storedStreamTrackingSchema.optional(), events: storedEventRulesSchema.optional() }).loose();

/** Lenient read of a stored entry: unknown fields go to `extra`; a known field that is invalid is a problem. */
export function readStoredStream(value: unknown): { ok: true; stored: StoredStream } | { ok: false; problem: string } {
  const parsed = storedStreamSchema.safeParse(value);
  if (!parsed.success) return { ok: false, problem: formatZodIssues(parsed.error, '(stream)').join('; ') };
  const stream: Record<string, unknown> = {};
  const extra: Record<string, unknown> = {};
  let origin: StreamOrigin | undefined;
  for (const [key, field] of Object.entries(parsed.data)) {
    if (key in streamShape) stream[key] = field;
    else if (key === 'origin' && (STREAM_ORIGINS as readonly unknown[]).includes(field)) origin = field as StreamOrigin;
    else extra[key] = field;
  }
  return { ok: true, stored: { stream: stream as StreamConfig, ...(origin ? { origin } : {}), extra } };
}

/** The object to store: unknown fields first, then the stream and its origin (known fields always win). */
export function storedStreamValue(stored: StoredStream): Record<string, unknown> {
  return { ...stored.extra, ...stored.stream, ...(stored.origin ? { origin: stored.origin } : {}) };
}
