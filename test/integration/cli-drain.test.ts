/**
 * Shutdown is bounded: `posestream run` (every role in one process) gets SIGTERM while its Redis is gone (a private
 * redis-server this test starts and shuts down) and exits 1 within the drain timeout, naming the roles that did not
 * finish, with no decoder process left behind; then each role on its own (`posestream ingest|worker|gateway|notify`)
 * with a short `shutdown.drainTimeoutSec`. (With Redis up, a SIGTERM exits 0 at once: ingest-assignment.test.ts.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { DRAIN_TIMEOUT_MS } from '../../cli/commands/roles.js';
import { defaultModelPaths, repoRoot } from '../../pipeline/assets.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import { freePort, testMqttUrl } from '../support/env.js';
import { privateRedis, type PrivateRedis } from '../support/private-redis.js';
import { alive, decoderChildren } from '../support/media.js';
import { waitForStreamState, waitUntil } from '../support/wait.js';
import { exited, spawnCli } from './pipeline-support.js';

describe.skipIf(!existsSync(defaultModelPaths.fp32))('posestream run: SIGTERM while Redis is unreachable', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  it('drains for at most the drain timeout, then exits 1 naming what did not stop; no decoder is left', { timeout: 90_000 }, async () => {
    const port = await freePort();
    const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    children.push(server);
    const redis = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    await waitUntil(async () => ((await redis.ping()) === 'PONG' ? true : undefined), 10_000, 'redis-server to answer', 100);

    const dir = mkdtempSync(path.join(tmpdir(), 'posestream-drain-'));
    const file = path.join(dir, 'posestream.yaml');
    writeFileSync(file, stringify({
      redis: { url: `redis://127.0.0.1:${port}/0` },
      model: { path: defaultModelPaths.fp32, cacheDir: path.join(repoRoot, 'build', 'ov-cache') },
      gateway: { host: '127.0.0.1', port: 0 },
      streams: [{ id: 'ball', url: 'test://ball', fps: 5 }],
    }));
    const run = spawnCli(['run', '--config', file]);
    children.push(run);
    const registry = new StreamRegistry(redis);
    await waitForStreamState(registry, 'ball', (state) => state.state === 'running', 60_000);
    const decoders = decoderChildren(run.pid!);
    expect(decoders).toHaveLength(1);

    await redis.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
    await exited(server, 10_000);
    redis.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    const signalledAt = Date.now();
    run.kill('SIGTERM');
    const code = await exited(run, DRAIN_TIMEOUT_MS + 10_000);
    const tookMs = Date.now() - signalledAt;
    expect(code).toBe(1);
    expect(tookMs).toBeGreaterThanOrEqual(DRAIN_TIMEOUT_MS - 500);
    expect(tookMs).toBeLessThan(DRAIN_TIMEOUT_MS + 5_000);
    const { stdout, stderr } = run.output();
    const timeoutLine = `${stdout}\n${stderr}`.split('\n').find((line) => line.includes('drain did not finish'));
    expect(timeoutLine, stderr.slice(-2_000)).toBeDefined();
    expect(JSON.parse(timeoutLine!).pending.length).toBeGreaterThan(0);
    await waitUntil(async () => (decoders.some(alive) ? undefined : true), 3_000, 'the decoder to be gone', 100);
  });
});

/** A short bound keeps the per-role runs quick; the default (10 s) is exercised by `posestream run` above. */
const ROLE_DRAIN_SEC = 3;
/** After the drain timeout the process exits within exitSoon's 2 s; the rest is slack for a loaded machine. */
const EXIT_SLACK_MS = 5_000;

describe.skipIf(!existsSync(defaultModelPaths.fp32))('each role: SIGTERM while Redis is unreachable exits non-zero within the drain timeout', () => {
  const children: ChildProcess[] = [];
  const servers: PrivateRedis[] = [];
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    for (const server of servers) await server.kill();
  });

  it.each(['ingest', 'worker', 'gateway', 'notify'] as const)('%s', { timeout: 120_000 }, async (role) => {
    const redis = await privateRedis();
    servers.push(redis);
    await redis.start();
    const dir = mkdtempSync(path.join(tmpdir(), 'posestream-drain-'));
    const file = path.join(dir, 'posestream.yaml');
    writeFileSync(file, stringify({
      redis: { url: redis.url },
      model: { path: defaultModelPaths.fp32, cacheDir: path.join(repoRoot, 'build', 'ov-cache') },
      gateway: { host: '127.0.0.1', port: await freePort() },
      streams: [{ id: 'ball', url: 'test://ball', fps: 5 }],
      notify: { mqtt: { url: testMqttUrl } },
      shutdown: { drainTimeoutSec: ROLE_DRAIN_SEC },
    }));
    const child = spawnCli([role, '--config', file], { POSESTREAM_LOG_LEVEL: 'info' });
    children.push(child);
    await waitUntil(async () => (/"msg":"running"/.test(child.output().stdout + child.output().stderr) ? true : undefined), 90_000, () => `${role} to run: ${child.output().stderr.slice(-1_000)}`, 100);
    // Something in flight for the roles that hold things: a stream running (ingest), frames read (worker).
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    await redis.shutdown();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const code = await exited(child, ROLE_DRAIN_SEC * 1000 + EXIT_SLACK_MS + 5_000);
    const tookMs = Date.now() - signalledAt;
    const { stdout, stderr } = child.output();
    expect(code, stderr.slice(-2_000)).not.toBe(0);
    expect(typeof code === 'number' ? code : -1, `${role} must exit, not die of a signal`).toBe(1);
    expect(tookMs).toBeLessThan(ROLE_DRAIN_SEC * 1000 + EXIT_SLACK_MS);
    // Either the drain timed out naming the role, or the role stopped and said what it left (the notifier's stop
    // is bounded by itself: it closes its sinks and reports the acknowledgements it could not write).
    const lines = `${stdout}\n${stderr}`.split('\n');
    const timeoutLine = lines.find((line) => line.includes('drain did not finish'));
    const uncleanLine = lines.find((line) => line.includes('role did not stop cleanly'));
    expect(timeoutLine ?? uncleanLine, stderr.slice(-2_000)).toBeDefined();
    if (timeoutLine) expect(JSON.parse(timeoutLine)).toMatchObject({ pending: [role], timeoutMs: ROLE_DRAIN_SEC * 1000 });
    else expect(JSON.parse(uncleanLine!)).toMatchObject({ role, err: expect.stringMatching(/stay pending in Redis/) });
  });
});
