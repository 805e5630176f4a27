/**
 * Exactly-once lossless resume, end to end: a private redis-server (AOF, appendfsync always), `posestream ingest` and
 * `posestream worker` as child processes (real GStreamer decoder, real OpenVINO on the FP32 IR), one lossless file.
 * (a) kill -9 of the ingest mid-file and a new ingest process: it resumes from the stream's ingest record;
 * (b) Redis shut down (or killed: with appendfsync always nothing it acknowledged is lost) mid-file for a few seconds
 *     and started again: the processes ride it out.
 * Either way every frame yields exactly one result, seqs 0..N-1 in order, then one end-of-stream.
 */
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultModelPaths } from '../../pipeline/assets.js';
import { FIELD } from '../../pipeline/redis/codec.js';
import { keys } from '../../pipeline/redis/keys.js';
import type { StreamResult } from '../../pipeline/wire/v1.js';
import { assetPath, skipWithout } from '../support/assets.js';
import { decoderChildren } from '../support/media.js';
import { privateRedis, type PrivateRedis } from '../support/private-redis.js';
import { collectResults, endedWithEos, poseSeqs, spawnCli, writeTestConfig } from './pipeline-support.js';

const FRAMES = 144;
const STREAM = 'walk';
/** The fault strikes once this many results are out: mid-file, with frames queued and in flight. */
const FAULT_AT = 40;
/** Short for CI; POSESTREAM_TEST_OUTAGE_MS=20000 tries an outage longer than the ingest job locks (8 s). */
const OUTAGE_MS = Number(process.env.POSESTREAM_TEST_OUTAGE_MS ?? 5_000);

type Child = ReturnType<typeof spawnCli>;
const running = (child: Child) => child.exitCode === null && child.signalCode === null;

async function pipelineOn(redis: PrivateRedis) {
  const { file } = writeTestConfig(0, [{ id: STREAM, url: assetPath('walkingVideo'), mode: 'lossless' }], {
    redis: { url: redis.url },
    worker: { batchSize: 4, inferRequests: 1 },
  });
  return { file, worker: spawnCli(['worker', '-c', file]), ingest: spawnCli(['ingest', '-c', file], process.env.POSESTREAM_TEST_SHOW_RESYNC ? { POSESTREAM_LOG_LEVEL: 'info' } : {}) };
}

function expectExactlyOnce(list: StreamResult[], stderr: () => string): void {
  expect(poseSeqs(list), stderr()).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
  expect(list.filter((r) => r.kind === 'eos')).toHaveLength(1);
  expect(list.at(-1)).toMatchObject({ kind: 'eos', reason: 'eof', lastSeq: FRAMES - 1 });
}

describe.skipIf(skipWithout('walkingVideo') || !existsSync(defaultModelPaths.fp32))('lossless exactly once across failures', () => {
  const children: Child[] = [];
  const servers: PrivateRedis[] = [];
  afterAll(async () => {
    for (const child of children) if (running(child)) child.kill('SIGKILL');
    for (const server of servers) await server.kill();
  });

  it('kill -9 of the ingest mid-file: a new ingest resumes at the first frame Redis had not accepted', { timeout: 240_000 }, async () => {
    const redis = await privateRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
    servers.push(redis);
    await redis.start();
    const { file, worker, ingest } = await pipelineOn(redis);
    children.push(worker, ingest);
    let replacement: Child | undefined;
    let killedAt = -1;
    const results = await collectResults(redis.url, [STREAM], (r) => endedWithEos(r.get(STREAM)), 200_000, (r) => {
      const count = r.get(STREAM)!.length;
      if (replacement || count < FAULT_AT) return;
      killedAt = count;
      ingest.kill('SIGKILL');
      replacement = spawnCli(['ingest', '-c', file]);
      children.push(replacement);
    });
    const output = () => `${ingest.output().stderr.slice(-1_500)}\n${replacement?.output().stderr.slice(-1_500)}\n${worker.output().stderr.slice(-1_500)}`;
    expect(killedAt).toBeGreaterThanOrEqual(FAULT_AT);
    expect(killedAt).toBeLessThan(FRAMES);
    expectExactlyOnce(results.get(STREAM)!, output);
    const client = redis.client();
    // The replacement took a newer fencing token; the record ends after the last frame.
    expect(await client.hmget(keys.ingestRecord(STREAM), 'seq', 'token')).toEqual([String(FRAMES), '2']);
    client.disconnect();
  });

  it.each([
    ['shut down', (redis: PrivateRedis) => redis.shutdown()],
    ['killed (kill -9, appendfsync always)', (redis: PrivateRedis) => redis.kill()],
  ] as const)(`Redis %s mid-file for ${OUTAGE_MS / 1000} s: the processes ride it out, nothing lost or doubled`, { timeout: 240_000 }, async (_how, stop) => {
    const redis = await privateRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
    servers.push(redis);
    await redis.start();
    const { worker, ingest } = await pipelineOn(redis);
    children.push(worker, ingest);
    let outage: Promise<void> | undefined;
    let decodersBefore: number[] = [];
    const results = await collectResults(redis.url, [STREAM], (r) => endedWithEos(r.get(STREAM)), 200_000, (r) => {
      if (outage || r.get(STREAM)!.length < FAULT_AT) return;
      decodersBefore = decoderChildren(ingest.pid!);
      outage = (async () => {
        await stop(redis);
        await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
        await redis.start();
      })();
    });
    await outage;
    const output = () => `${ingest.output().stderr.slice(-2_000)}\n${worker.output().stderr.slice(-2_000)}`;
    expect(outage).toBeDefined();
    expectExactlyOnce(results.get(STREAM)!, output);
    expect(running(ingest), output()).toBe(true);
    expect(running(worker), output()).toBe(true);
    // The source was held, not restarted: the same decoder process ran through the outage (it exits at EOF).
    expect(decodersBefore).toHaveLength(1);
    expect(ingest.output().stdout + ingest.output().stderr).not.toMatch(/stream source failed/);
    if (process.env.POSESTREAM_TEST_SHOW_RESYNC) console.log(ingest.output().stderr.split('\n').filter((line) => /stream (started|finished)|fenced|took this stream/.test(line)).join('\n'));
  });

  // Opt-in (POSESTREAM_TEST_SNAPSHOT_RESTORE=1) until the worker side holds: the ingest goes back to the restored
  // record (PS_INGEST_RESYNC) and re-reads the lost frames, but a worker that stayed up can commit frames it held
  // across the restore ahead of restored ones, which it then drops as stale (8-16 results missing right after the
  // snapshot: 3 of 6 runs; 1 of 5 since workers re-sync their streams on reconnect). ARCHITECTURE.md, "What Redis
  // itself can lose".
  it.skipIf(!process.env.POSESTREAM_TEST_SNAPSHOT_RESTORE)('Redis restarted from an older snapshot (its last writes lost): what it kept is exactly once; the lost frames are read from the source again', { timeout: 240_000 }, async () => {
    // A consistent prefix of Redis's history, as a machine crash with AOF everysec leaves it: SAVE mid-file, let
    // ~1.5 s of frames, results and acks happen, kill -9, start again from the snapshot.
    const redis = await privateRedis(['--appendonly', 'no']);
    servers.push(redis);
    await redis.start();
    const { worker, ingest } = await pipelineOn(redis);
    children.push(worker, ingest);
    let outage: Promise<void> | undefined;
    let savedRecord: Array<string | null> = [];
    // The collector sees results that were later lost and produced again: the guarantee is about what Redis holds.
    await collectResults(redis.url, [STREAM], (r) => endedWithEos(r.get(STREAM)), 200_000, (r) => {
      if (outage || r.get(STREAM)!.length < FAULT_AT) return;
      outage = (async () => {
        const client = redis.client();
        await client.save();
        savedRecord = await client.hmget(keys.ingestRecord(STREAM), 'seq');
        client.disconnect();
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        await redis.kill();
        await redis.start();
      })();
    });
    await outage;
    const client = redis.client();
    const entries = (await client.xrange(keys.results(STREAM), '-', '+')) as Array<[string, string[]]>;
    client.disconnect();
    const kept = entries.map(([, fields]) => JSON.parse(fields[fields.indexOf(FIELD.result) + 1]!) as StreamResult);
    const output = () => `${ingest.output().stderr.slice(-2_000)}\n${worker.output().stderr.slice(-2_000)}`;
    expect(Number(savedRecord[0])).toBeLessThan(FRAMES);
    if (process.env.POSESTREAM_TEST_SHOW_RESYNC) {
      const seqs = poseSeqs(kept);
      console.log(`saved record seq ${savedRecord[0]}; missing ${Array.from({ length: FRAMES }, (_, i) => i).filter((i) => !seqs.includes(i))}; doubled ${seqs.filter((q, i) => seqs.indexOf(q) !== i)}`);
    }
    expectExactlyOnce(kept, output);
    // The ingest was ahead of the restored record and went back to it (from the source, not from 0).
    expect(output()).toMatch(/no longer holds frames it had accepted/);
    expect(running(ingest), output()).toBe(true);
    expect(running(worker), output()).toBe(true);
  });
});
