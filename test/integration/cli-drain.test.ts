/**
 * Shutdown is bounded: `posestream run` (every role in one process) gets SIGTERM while its Redis is gone (a private
 * redis-server this test starts and shuts down) and exits 1 within the drain timeout, naming the roles that did not
 * finish, with no decoder process left behind. (With Redis up, a SIGTERM exits 0 at once: ingest-assignment.test.ts.)
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
import { freePort } from '../support/env.js';
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
