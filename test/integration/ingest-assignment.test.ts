import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../pipeline/assets.js';
import { createRedis } from '../../pipeline/redis/client.js';
import { FrameConsumer } from '../../pipeline/redis/frame-stream.js';
import { BULL_PREFIX } from '../../pipeline/redis/keys.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import type { StreamState } from '../../pipeline/wire/v1.js';
import { LOCK_DURATION_MS, STALLED_INTERVAL_MS } from '../../workers/ingest/assignment.js';
import { assetPath } from '../support/assets.js';
import { testArtifactsDir, testRedisUrl } from '../support/env.js';

const DB = 14;
const redis = createRedis(testRedisUrl(DB), { name: 'test', logger: pino({ level: 'silent' }) });
const registry = new StreamRegistry(redis);
const children = new Set<ChildProcess>();
const config: { redis: { url: string }; model: { path: string }; streams: Array<{ id: string; url: string }> } = {
  redis: { url: testRedisUrl(DB) },
  model: { path: 'unused.xml' },
  streams: [{ id: 'cam', url: 'test://ball' }],
};

/** A real ingest process (so kill -9 is a real death: no cleanup, sockets cut by the kernel). */
function startProcess(processId: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test/support/ingest-process.ts'), JSON.stringify(config), processId], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (text: string) => text.includes('READY') && resolve(child));
    child.once('exit', (code) => reject(new Error(`${processId} exited with ${code} before READY`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function waitForState(predicate: (state: StreamState) => boolean, timeoutMs: number, streamId = 'cam'): Promise<StreamState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = (await registry.states()).get(streamId);
    if (state && predicate(state)) return state;
    if (Date.now() > deadline) throw new Error(`expected state not reached within ${timeoutMs} ms, last ${JSON.stringify(state)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  await redis.flushdb();
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await registry.close();
  await redis.flushdb();
  redis.disconnect();
});

describe('stream assignment across ingest processes (BullMQ)', () => {
  it('a stream runs in exactly one process; it moves on a clean stop at once and on kill -9 within lock + stalled interval', { timeout: 90_000 }, async () => {
    const a = await startProcess('ingest-a');
    const b = await startProcess('ingest-b');
    const first = await waitForState((state) => state.state === 'running', 20_000);
    const owner = first.owner!;
    expect(['ingest-a', 'ingest-b']).toContain(owner);
    const [ownerProcess, other] = owner === 'ingest-a' ? [a, 'ingest-b'] : [b, 'ingest-a'];

    // Clean stop: the owner releases the job, the other process takes it without waiting for a lock to expire.
    const stoppedAt = Date.now();
    ownerProcess.kill('SIGTERM');
    expect(await exited(ownerProcess)).toBe(0);
    const moved = await waitForState((state) => state.state === 'running' && state.owner === other && state.since > stoppedAt, 10_000);
    const cleanMoveMs = moved.since - stoppedAt;
    expect(cleanMoveMs).toBeLessThan(5_000);

    // Real death of the new owner: a fresh third process must take over once the dead lock expires.
    const survivor = other === 'ingest-a' ? a : b;
    await startProcess('ingest-c');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await registry.states()).get('cam')?.owner).toBe(other);
    const killedAt = Date.now();
    survivor.kill('SIGKILL');
    await exited(survivor);
    const taken = await waitForState((state) => state.state === 'running' && state.owner === 'ingest-c', LOCK_DURATION_MS + STALLED_INTERVAL_MS + 8_000);
    const deathMoveMs = taken.since - killedAt;
    expect(deathMoveMs).toBeLessThan(LOCK_DURATION_MS + STALLED_INTERVAL_MS + 3_000);
    console.info(`assignment: clean stop moved the stream in ${cleanMoveMs} ms, kill -9 in ${deathMoveMs} ms (lock ${LOCK_DURATION_MS} ms, stalled check ${STALLED_INTERVAL_MS} ms)`);

    // Exactly one job for the stream, held by ingest-c.
    const bullKeys = await redis.keys(`${BULL_PREFIX}:ingest:*`);
    expect(bullKeys.filter((key) => /:ingest:cam$/.test(key))).toHaveLength(1);
    expect(await redis.lrange(`${BULL_PREFIX}:ingest:active`, 0, -1)).toEqual(['cam']);
  });
});

describe('ingest process exit', () => {
  it('`posestream ingest` exits 0 promptly on SIGTERM after a file stream ended (no GStreamer thread left behind)', { timeout: 60_000 }, async () => {
    await redis.flushdb();
    mkdirSync(testArtifactsDir, { recursive: true });
    const configFile = path.join(testArtifactsDir, 'ingest-exit.json');
    writeFileSync(configFile, JSON.stringify({ ...config, streams: [{ id: 'walk', url: assetPath('walkingVideo'), mode: 'lossless' }, { id: 'ball', url: 'test://ball' }] }));
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/posestream.cjs'), 'ingest', '--config', configFile], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(child);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    // Act as the worker: drain the lossless stream until its end marker, so the file really reaches EOS.
    const consumer = new FrameConsumer(redis, { consumer: 'drain', claimIdleMs: 60_000 });
    for (let ended = false; !ended; ) {
      const batch = await consumer.read(['walk'], { count: 16, blockMs: 15_000 });
      if (batch.length === 0) throw new Error(`the file stream stopped before its end: ${stderr.slice(-2000)}`);
      const multi = redis.multi();
      for (const delivery of batch) {
        consumer.ackInto(multi, delivery);
        ended ||= delivery.entry.kind === 'eos';
      }
      await multi.exec();
    }
    await waitForState((state) => state.state === 'ended', 5_000, 'walk');
    const stoppingAt = Date.now();
    child.kill('SIGTERM');
    const code = await Promise.race([exited(child), new Promise((resolve) => setTimeout(() => resolve('hung'), 10_000))]);
    expect(code).toBe(0);
    expect(Date.now() - stoppingAt).toBeLessThan(5_000);
  });
});
