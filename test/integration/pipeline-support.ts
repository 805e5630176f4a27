/**
 * Helpers for the pipeline integration tests (pipeline-*.test.ts, worker-*.test.ts): a config file per test on its
 * own Redis DB, and a result collector that follows results streams until a condition holds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../../config/load.js';
import type { PosestreamConfig } from '../../config/schema.js';
import type { StreamConfigInput } from '../../pipeline/streams/definition.js';
import { defaultModelPaths, repoRoot } from '../../pipeline/assets.js';
import { createLogger } from '../../pipeline/obs/logger.js';
import { createRedis, type RedisTarget } from '../../pipeline/redis/client.js';
import { ResultReader } from '../../pipeline/redis/result-stream.js';
import type { StreamResult } from '../../pipeline/wire/v1.js';
import { testRedisUrl } from '../support/env.js';

export const quietLogger = () => createLogger('test', process.env.POSESTREAM_TEST_LOG_LEVEL ?? 'error');

/** Writes a config for `db` with these streams (FP32 IR, pinned f32 is not needed: detection counts only). */
export function writeTestConfig(
  db: number,
  streams: StreamConfigInput[],
  overrides: {
    /** Instead of the test Redis's DB `db`, e.g. { cluster: testRedisCluster } (test/support/redis-cluster.ts). */
    redis?: Record<string, unknown>;
    model?: Record<string, unknown>;
    worker?: Record<string, unknown>;
    ingest?: Record<string, unknown>;
    gateway?: Record<string, unknown>;
    sourcePolicy?: Record<string, unknown>;
  } = {},
): { file: string; config: PosestreamConfig } {
  const dir = mkdtempSync(path.join(tmpdir(), 'posestream-pipeline-'));
  const file = path.join(dir, 'posestream.yaml');
  const doc = {
    redis: overrides.redis ?? { url: testRedisUrl(db) },
    model: { path: defaultModelPaths.fp32, cacheDir: path.join(repoRoot, 'build', 'ov-cache'), ...overrides.model },
    worker: { batchSize: 4, maxBatchWaitMs: 10, claimIdleMs: 1_500, ...overrides.worker },
    ingest: { stallTimeoutSec: 5, backoffInitialMs: 200, backoffMaxMs: 2_000, ...overrides.ingest },
    gateway: { host: '127.0.0.1', port: 0, ...overrides.gateway },
    ...(overrides.sourcePolicy ? { sourcePolicy: overrides.sourcePolicy } : {}),
    streams,
  };
  writeFileSync(file, stringify(doc));
  return { file, config: loadConfig(file).config };
}

export type ResultsByStream = Map<string, StreamResult[]>;

/**
 * Follows the results of `streamIds` from the beginning until `done` holds (resolves) or the time is up (rejects).
 * Reads that fail (a cluster failover under way) are retried.
 */
export async function collectResults(
  redisTarget: string | RedisTarget,
  streamIds: string[],
  done: (results: ResultsByStream) => boolean,
  timeoutMs: number,
  onProgress?: (results: ResultsByStream) => void,
): Promise<ResultsByStream> {
  const redis = createRedis(redisTarget, { name: 'test-collector', logger: quietLogger() });
  const reader = new ResultReader(redis);
  const results: ResultsByStream = new Map(streamIds.map((id) => [id, []]));
  const cursors = new Map(streamIds.map((id) => [id, '0-0']));
  const deadline = Date.now() + timeoutMs;
  try {
    while (!done(results)) {
      if (Date.now() > deadline) {
        const summary = [...results].map(([id, list]) => `${id}: ${list.length}`).join(', ');
        throw new Error(`results not complete after ${timeoutMs} ms (${summary})`);
      }
      const batches = await reader.follow(cursors, 250).catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return [];
      });
      for (const batch of batches) {
        cursors.set(batch.streamId, batch.lastId);
        results.get(batch.streamId)!.push(...batch.entries.map((e) => e.result));
      }
      onProgress?.(results);
    }
    return results;
  } finally {
    redis.disconnect();
  }
}

export const endedWithEos = (list: StreamResult[] | undefined) => list !== undefined && list.at(-1)?.kind === 'eos';
export const poseSeqs = (list: StreamResult[]) => list.flatMap((r) => (r.kind === 'pose' ? [r.seq] : []));

/** `node bin/posestream.cjs ...args` as a child process, output captured. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess & { output: () => { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'posestream.cjs'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, POSESTREAM_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return Object.assign(child, { output: () => ({ stdout, stderr }) });
}

export function exited(child: ChildProcess, timeoutMs: number): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process ${child.pid} still running after ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal ?? -1);
    });
  });
}
