import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Cluster, Redis, RedisClient, RedisTarget } from '../../pipeline/redis/client.js';
import { stringify } from 'yaml';
import { loadConfig } from '../../config/load.js';
import type { PosestreamConfig } from '../../config/schema.js';
import type { StreamConfigInput } from '../../pipeline/streams/definition.js';
import type { ModelInputFormat } from '../../pipeline/image/i420.js';
import { repoRoot } from '../../pipeline/assets.js';
import type { StreamResult } from '../../pipeline/wire/v1.js';

/**
 * Shared by the pipeline benchmarks (pipeline, latency, soak): a config on a dedicated Redis DB, the model choice
 * and a result tap.
 */

export interface BenchConfigInput {
  /** One Redis DB or a cluster (cli/bench/options.ts benchRedisTarget). */
  redis: RedisTarget;
  model: string;
  /** model.inputFormat (default: the config default, i420). */
  inputFormat?: ModelInputFormat;
  streams: StreamConfigInput[];
  batchSize?: number;
  maxBatchWaitMs?: number;
  inferRequests?: number;
  gatewayPort?: number;
  /** results.retention per stream (default the config default). */
  retention?: number;
  /** ingest.maxStreams (default the config default). */
  maxStreams?: number;
  /** model.hint (default the config default). */
  hint?: string;
}

/**
 * Writes the config to a temporary file (child processes read it too) and loads it like the CLI does. The model
 * path is made absolute first: a relative --model means relative to where the command runs, not to the temp dir.
 */
export function writeBenchConfig(input: BenchConfigInput): { file: string; config: PosestreamConfig } {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'posestream-bench-')), 'posestream.yaml');
  writeFileSync(
    file,
    stringify({
      redis: input.redis.cluster ? { cluster: input.redis.cluster } : { url: input.redis.url },
      model: {
        path: path.resolve(input.model),
        cacheDir: path.join(repoRoot, 'build', 'ov-cache'),
        ...(input.inputFormat ? { inputFormat: input.inputFormat } : {}),
        ...(input.hint === undefined ? {} : { hint: input.hint }),
      },
      worker: {
        batchSize: input.batchSize ?? 4,
        maxBatchWaitMs: input.maxBatchWaitMs ?? 0,
        ...(input.inferRequests === undefined ? {} : { inferRequests: input.inferRequests }),
      },
      gateway: { host: '127.0.0.1', port: input.gatewayPort ?? 0 },
      ...(input.retention === undefined ? {} : { results: { retention: input.retention } }),
      ...(input.maxStreams === undefined ? {} : { ingest: { maxStreams: input.maxStreams } }),
      streams: input.streams,
    }),
  );
  return { file, config: loadConfig(file).config };
}

/**
 * A connection to the benchmark's Redis, emptied first: FLUSHDB of its DB on one Redis, FLUSHALL of every master on
 * a cluster (which has one database only).
 */
export async function openBenchRedis(target: RedisTarget): Promise<RedisClient> {
  const { createRedis } = await import('../../pipeline/redis/client.js');
  const { createLogger } = await import('../../pipeline/obs/logger.js');
  const redis = createRedis(target, { name: 'bench', logger: createLogger('bench', 'warn') });
  await eachServer(redis, (server) => server.flushdb());
  return redis;
}

/** Runs `fn` on the one Redis, or on every master of a cluster (INFO, SCAN, FLUSHDB are per server). */
export async function eachServer<T>(redis: RedisClient, fn: (server: Redis) => Promise<T>): Promise<T[]> {
  if (!('isCluster' in redis) || !redis.isCluster) return [await fn(redis as Redis)];
  await new Promise<void>((resolve) => (redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve())));
  return Promise.all((redis as Cluster).nodes('master').map(fn));
}

/** Follows the results of some streams from now until stop(), calling onResult with each and its arrival time. */
export function tapResults(redis: RedisClient, streamIds: string[], onResult: (result: StreamResult, receivedAt: number) => void): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    const { ResultReader } = await import('../../pipeline/redis/result-stream.js');
    const reader = new ResultReader(redis);
    const cursors = new Map<string, string>();
    for (const id of streamIds) cursors.set(id, await reader.tailId(id));
    while (running) {
      for (const batch of await reader.follow(cursors, 200)) {
        cursors.set(batch.streamId, batch.lastId);
        const now = Date.now();
        for (const entry of batch.entries) onResult(entry.result, now);
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
