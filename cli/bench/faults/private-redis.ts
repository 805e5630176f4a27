import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { PosestreamError } from '../../../pipeline/errors.js';

/**
 * A redis-server of the fault suite's own, on a private port and directory, that a scenario may stop, kill -9,
 * restart with or without its data, or squeeze with maxmemory. Never the Redis of a deployment.
 */
export interface PrivateRedisOptions {
  port: number;
  dir: string;
  /** AOF persistence; `always` fsyncs every write (what a kill -9 of Redis cannot lose). */
  appendfsync?: 'always' | 'everysec';
  maxmemory?: string;
}

export class PrivateRedis {
  private child: ChildProcess | undefined;

  constructor(readonly options: PrivateRedisOptions) {
    mkdirSync(options.dir, { recursive: true });
  }

  get url(): string {
    return `redis://127.0.0.1:${this.options.port}`;
  }

  async start(): Promise<void> {
    const { port, dir, appendfsync, maxmemory } = this.options;
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--maxmemory-policy', 'noeviction'];
    args.push('--appendonly', appendfsync ? 'yes' : 'no');
    if (appendfsync) args.push('--appendfsync', appendfsync);
    if (maxmemory) args.push('--maxmemory', maxmemory);
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      child.once('error', (error) => reject(new PosestreamError('PS_BENCH_TOOL_FAILED', `cannot start redis-server: ${error.message}`, { cause: error })));
      child.once('spawn', () => resolve());
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await this.command((redis) => redis.ping());
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new PosestreamError('PS_BENCH_TOOL_FAILED', `redis-server on port ${port} did not answer within 10 s`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** A short-lived connection for one command (so nothing of the harness keeps reconnecting during an outage). */
  async command<T>(run: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      return await run(redis);
    } finally {
      redis.disconnect();
    }
  }

  /** SHUTDOWN (with AOF: everything written is on disk) and wait for the process to end. */
  async shutdown(): Promise<void> {
    const exited = this.exited();
    await this.command((redis) => redis.call('SHUTDOWN')).catch(() => undefined);
    await exited;
  }

  /** kill -9: whatever was not fsynced is lost. */
  async kill(): Promise<void> {
    const exited = this.exited();
    this.child?.kill('SIGKILL');
    await exited;
  }

  /** Deletes the data directory's files (a restart after this starts empty). */
  wipe(): void {
    rmSync(this.options.dir, { recursive: true, force: true });
    mkdirSync(this.options.dir, { recursive: true });
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) await this.kill();
  }

  private exited(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => child.once('exit', () => resolve()));
  }
}
