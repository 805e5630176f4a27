/**
 * A redis-server of a test's own, on a free port, that the test may shut down and start again (same port, same
 * data directory): outages and restarts without touching the suite's shared Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './env.js';

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** Starts redis-server (again) with the same port, settings and data directory; resolves once it answers. */
  start(): Promise<void>;
  /** SHUTDOWN (the AOF is flushed and closed first, as an operator's `redis-cli shutdown` does); resolves when it exited. */
  shutdown(): Promise<void>;
  /** SIGKILL: what is not yet in the AOF is lost (with appendfsync everysec up to ~1 s of writes). */
  kill(): Promise<void>;
  /** A plain client (the caller disconnects it). */
  client(): Redis;
  readonly running: boolean;
}

export async function privateRedis(settings: string[] = []): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'posestream-redis-'));
  let server: ChildProcess | undefined;
  const exited = (child: ChildProcess) =>
    child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const client = () => {
    const redis = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, lazyConnect: false });
    redis.on('error', () => undefined);
    return redis;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    get running() {
      return server !== undefined && server.exitCode === null && server.signalCode === null;
    },
    client,
    async start() {
      server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...settings], { stdio: 'ignore' });
      const probe = client();
      try {
        for (let attempt = 0; ; attempt += 1) {
          if ((await probe.ping().catch(() => undefined)) === 'PONG') break;
          if (attempt > 100) throw new Error(`redis-server on port ${port} did not answer`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        probe.disconnect();
      }
    },
    async shutdown() {
      if (!server) return;
      const redis = client();
      await redis.call('SHUTDOWN').catch(() => undefined);
      redis.disconnect();
      await exited(server);
    },
    async kill() {
      if (!server) return;
      server.kill('SIGKILL');
      await exited(server);
    },
  };
}
