import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { configSchema, type PosestreamConfig } from '../../config/schema.js';
import { eventRulesSchema } from '../../pipeline/events/config.js';
import { PosestreamError } from '../../pipeline/errors.js';
import { createLogger } from '../../pipeline/obs/logger.js';
import { redactUrl } from '../../pipeline/obs/redact.js';
import { PoseEventReader } from '../../pipeline/redis/event-stream.js';
import { ResultReader } from '../../pipeline/redis/result-stream.js';
import { runModelsJson } from './models.js';

/**
 * `posestream eval falls --data DIR [--labels F] [--json]`: every clip of a labelled falls dataset through the real
 * pipeline (lossless file streams: decoder, inference worker with its result stages, tracker and event engine, on a
 * private Redis database), then its `fall` events against the labelled onsets, scored by `python -m
 * posestream_models fall-score` (scikit-learn). An alert is the media time of a fall's decisive frame (atPtsMs).
 * The database must be empty (nothing else may live there) and is emptied again afterwards.
 */

export interface FallEvalOptions {
  data: string;
  labels?: string;
  config?: string;
  model?: string;
  redis?: string;
  parallel: number;
  rules?: string;
  timeoutSec: number;
  json?: boolean;
}

export interface FallEvalClip {
  file: string;
  fall: boolean;
  detected: boolean;
  delay_s: number | null;
  alerts: number;
  false_alerts: number;
}

export interface FallEvalReport {
  clips: FallEvalClip[];
  precision: number;
  recall: number;
  f1: number;
  false_alerts: number;
  median_delay_s: number | null;
  falls: number;
  detected: number;
  /** Per clip, the media times (s) of its fall alerts. */
  alerts: Array<{ file: string; alerts_s: number[] }>;
}

const labelsSchema = z.object({
  clips: z.array(z.object({ file: z.string().min(1), fall: z.boolean(), fall_onset_s: z.number().nullable().optional() }).loose()).min(1),
}).loose();

/** The database eval falls uses unless told otherwise: the config's Redis, database 13. */
export const DEFAULT_EVAL_DB = 13;

function datasetError(message: string): PosestreamError {
  return new PosestreamError('PS_EVAL_BAD_DATASET', message);
}

export function registerFallEvalCommand(evalCommand: Command): void {
  evalCommand
    .command('falls')
    .description('fall alerts of the real pipeline on a labelled falls dataset: per clip expected/detected/delay, precision/recall/F1 (scikit-learn)')
    .requiredOption('--data <dir>', 'dataset folder with the clips and labels.json')
    .option('--labels <file>', 'labels file (default <data>/labels.json): clips [{file, fall, fall_onset_s}]')
    .option('-c, --config <file>', 'config for the model, worker and Redis settings (default config/posestream.yaml)')
    .option('--model <path>', 'model IR (default: the config model)')
    .option('--redis <url>', `an empty Redis database for the run (default: the config's Redis, database ${DEFAULT_EVAL_DB})`)
    .option('--parallel <n>', 'clips decoded at once', (value) => positiveInt(value, '--parallel'), 2)
    .option('--rules <json>', 'event rules for every clip (a stream `events:` object as JSON), e.g. \'{"fall":{"minDownSec":0.8}}\'')
    .option('--timeout-sec <n>', 'give up when the clips are not all through after this long', (value) => positiveInt(value, '--timeout-sec'), 900)
    .option('--json', 'print one JSON object {clips:[{file,fall,detected,delay_s}],precision,recall,f1,false_alerts,...}')
    .action(async (options: FallEvalOptions) => {
      const report = await runFallEval(options);
      process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : `${formatFallReport(report)}\n`);
    });
}

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new PosestreamError('PS_CLI_BAD_OPTION', `${name}: expected a positive integer, got "${value}"`);
  return n;
}

interface Clip {
  file: string;
  path: string;
  streamId: string;
}

/** The dataset's clips; every file must exist. Stream ids: clip-<n>-<name>, valid whatever the file is called. */
export function loadFallDataset(data: string, labelsFile?: string): { labels: string; clips: Clip[] } {
  const labels = path.resolve(labelsFile ?? path.join(data, 'labels.json'));
  if (!existsSync(labels)) throw datasetError(`labels file not found: ${labels}`);
  let parsed;
  try {
    parsed = labelsSchema.parse(JSON.parse(readFileSync(labels, 'utf8')));
  } catch (error) {
    throw datasetError(`labels file ${labels}: ${error instanceof z.ZodError ? error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') : (error as Error).message}`);
  }
  const clips = parsed.clips.map((clip, index) => {
    const file = path.resolve(data, clip.file);
    if (!existsSync(file)) throw datasetError(`clip listed in ${path.basename(labels)} not found: ${file}`);
    const name = path.parse(clip.file).name.replace(/[^A-Za-z0-9_-]/g, '_');
    return { file: clip.file, path: file, streamId: `clip-${index}-${name}`.slice(0, 64) };
  });
  return { labels, clips };
}

function evalDatabase(configUrl: string | undefined, given?: string): string {
  if (given) return given;
  // A cluster has database 0 only, which the evaluation would flush: it needs one Redis with a spare database.
  if (configUrl === undefined) throw new PosestreamError('PS_CLI_BAD_OPTION', 'the config names a Redis Cluster: give --redis URL of one Redis whose database the evaluation may flush');
  const url = new URL(configUrl);
  url.pathname = `/${DEFAULT_EVAL_DB}`;
  return url.toString();
}

/** The run's config: the base config's model and worker settings, one lossless stream per clip, nothing else. */
export function fallEvalConfig(base: PosestreamConfig, clips: Clip[], options: { redisUrl: string; parallel: number; model?: string; rules?: string }): PosestreamConfig {
  let events;
  try {
    events = eventRulesSchema.parse(options.rules ? JSON.parse(options.rules) : {});
  } catch (error) {
    throw new PosestreamError('PS_CLI_BAD_OPTION', `--rules: ${error instanceof z.ZodError ? error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') : (error as Error).message}`);
  }
  return configSchema.parse({
    redis: { url: options.redisUrl },
    model: { ...base.model, ...(options.model ? { path: path.resolve(options.model) } : {}) },
    worker: base.worker,
    ingest: { ...base.ingest, maxStreams: options.parallel },
    results: base.results,
    events: base.events,
    streams: clips.map((clip) => ({ id: clip.streamId, url: clip.path, mode: 'lossless', loop: false, events })),
  });
}

export async function runFallEval(options: FallEvalOptions): Promise<FallEvalReport> {
  const { labels, clips } = loadFallDataset(options.data, options.labels);
  const { loadConfig } = await import('../../config/load.js');
  const base = loadConfig(options.config).config;
  const redisUrl = evalDatabase(base.redis.url, options.redis);
  const config = fallEvalConfig(base, clips, { redisUrl, parallel: options.parallel, ...(options.model ? { model: options.model } : {}), ...(options.rules ? { rules: options.rules } : {}) });
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  // Connection trouble surfaces as the failing command's error; the event would otherwise be an unhandled one.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
  } catch (error) {
    throw new PosestreamError('PS_EVAL_REDIS', `cannot reach Redis at ${redactUrl(redisUrl)}: ${(error as Error).message}`);
  }
  let owned = false;
  try {
    const keys = await redis.dbsize();
    if (keys > 0) throw new PosestreamError('PS_EVAL_DB_NOT_EMPTY', `Redis database ${redactUrl(redisUrl)} holds ${keys} key(s): eval falls needs an empty database of its own (pass --redis redis://host:port/<db>)`);
    // From here on everything in the database is this run's, and it is removed again whatever happens.
    owned = true;
    const alerts = await runClips(config, clips, redis, options.timeoutSec * 1000);
    return await scoreFallAlerts(labels, alerts);
  } finally {
    if (owned) await redis.flushdb().catch(() => undefined);
    redis.disconnect();
  }
}

async function runClips(config: PosestreamConfig, clips: Clip[], redis: Redis, timeoutMs: number): Promise<FallEvalReport['alerts']> {
  const [{ startIngest }, { startWorker }] = await Promise.all([import('../../workers/ingest/main.js'), import('../../workers/inference/main.js')]);
  const logger = createLogger('eval', process.env.POSESTREAM_LOG_LEVEL ?? 'warn');
  const worker = await startWorker(config, { logger });
  let ingest: Awaited<ReturnType<typeof startIngest>> | undefined;
  try {
    ingest = await startIngest(config, { logger });
    await waitForEnds(redis, clips, timeoutMs);
  } finally {
    await ingest?.stop();
    await worker.stop();
  }
  const events = new PoseEventReader(redis);
  const alerts: FallEvalReport['alerts'] = [];
  for (const clip of clips) {
    const times: number[] = [];
    for (let afterId: string | undefined; ; ) {
      const page = await events.replay(clip.streamId, { ...(afterId ? { afterId } : {}), count: 500 });
      for (const { event } of page) if (event.type === 'fall') times.push((event.atPtsMs ?? Number.NaN) / 1000);
      if (page.length < 500) break;
      afterId = page[page.length - 1]!.entryId;
    }
    if (times.some(Number.isNaN)) throw new PosestreamError('PS_EVAL_NO_MEDIA_TIME', `${clip.file}: fall events without a media time (the decoder gave no PTS)`);
    alerts.push({ file: clip.file, alerts_s: times });
  }
  return alerts;
}

/** Until every clip's results end with an end-of-stream; an end with an error names the clip. */
async function waitForEnds(redis: Redis, clips: Clip[], timeoutMs: number): Promise<void> {
  const results = new ResultReader(redis);
  const pending = new Set(clips.map((clip) => clip.streamId));
  const deadline = Date.now() + timeoutMs;
  while (pending.size > 0) {
    for (const clip of clips) {
      if (!pending.has(clip.streamId)) continue;
      const newest = await results.newest(clip.streamId);
      if (newest?.result.kind !== 'eos') continue;
      if (newest.result.reason !== 'eof') throw new PosestreamError('PS_EVAL_CLIP_FAILED', `${clip.file}: the stream ended with ${newest.result.reason}${newest.result.message ? `: ${newest.result.message}` : ''}`);
      pending.delete(clip.streamId);
      process.stderr.write(`eval falls: ${clip.file} done (${clips.length - pending.size}/${clips.length})\n`);
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline) throw new PosestreamError('PS_EVAL_TIMEOUT', `clips not through after ${Math.round(timeoutMs / 1000)} s: ${clips.filter((clip) => pending.has(clip.streamId)).map((clip) => clip.file).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Fall alerts (media times per clip) against a labels file, by `python -m posestream_models fall-score`. */
export async function scoreFallAlerts(labels: string, alerts: FallEvalReport['alerts']): Promise<FallEvalReport> {
  const folder = mkdtempSync(path.join(tmpdir(), 'posestream-falls-'));
  try {
    const alertsFile = path.join(folder, 'alerts.json');
    writeFileSync(alertsFile, JSON.stringify({ clips: alerts }));
    const scored = (await runModelsJson(['fall-score', '--labels', labels, '--alerts', alertsFile, '--json'], 'PS_EVAL_SCORE_FAILED')) as Omit<FallEvalReport, 'alerts'>;
    return { ...scored, alerts };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

export function formatFallReport(report: FallEvalReport): string {
  const alertsOf = new Map(report.alerts.map((clip) => [clip.file, clip.alerts_s]));
  const lines = [`${'clip'.padEnd(24)} ${'expected'.padEnd(8)} ${'detected'.padEnd(8)} ${'alerts_s'.padEnd(16)} ${'delay_s'.padStart(7)} false`];
  for (const clip of report.clips) {
    const times = (alertsOf.get(clip.file) ?? []).map((t) => t.toFixed(2)).join(',') || '-';
    lines.push(`${clip.file.padEnd(24)} ${(clip.fall ? 'fall' : 'no').padEnd(8)} ${(clip.detected ? 'yes' : 'no').padEnd(8)} ${times.padEnd(16)} ${(clip.delay_s === null ? '-' : clip.delay_s.toFixed(2)).padStart(7)} ${clip.false_alerts}`);
  }
  const median = report.median_delay_s === null ? '-' : `${report.median_delay_s.toFixed(2)} s`;
  lines.push(
    `falls found ${report.detected}/${report.falls}, false alerts ${report.false_alerts}; precision ${report.precision.toFixed(3)}, recall ${report.recall.toFixed(3)}, F1 ${report.f1.toFixed(3)}; median delay ${median}`,
  );
  return lines.join('\n');
}
