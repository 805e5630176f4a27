import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import { startGateway, type RunningGateway } from '../../gateway/main.js';
import { keys } from '../../pipeline/redis/keys.js';
import { freePort } from '../support/env.js';
import { waitUntil } from '../support/wait.js';

/** waitUntil for yes/no probes. */
const waitFor = (probe: () => Promise<boolean>, timeoutMs: number, what: string) => waitUntil(async () => ((await probe()) ? true : undefined), timeoutMs, what, 100);

/**
 * REST while Redis is away, against a private redis-server this test starts, stops and restarts (the shared test
 * Redis must stay up for the other files): every call answers 503 PS_REDIS_UNAVAILABLE within ~2 s, and a request
 * the gateway answered with 503 is not applied when Redis returns. A Redis that hangs (SIGSTOP) instead of dying
 * gets the timeout answer, which says the request is not confirmed: such a Redis applies it when it resumes.
 */

const TOKEN = 'outage-token-0123';
const ANSWER_WITHIN_MS = 3_000;

describe('gateway REST while Redis is down or hung (private redis-server)', () => {
  let port: number;
  let server: ChildProcess | undefined;
  let gateway: RunningGateway;
  let redis: Redis;

  async function startRedis(): Promise<void> {
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], {
      stdio: 'ignore',
    });
    const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    await waitFor(async () => {
      await probe.connect().catch(() => undefined);
      return (await probe.ping()) === 'PONG';
    }, 10_000, 'redis-server to answer');
    probe.disconnect();
  }

  async function stopRedis(): Promise<void> {
    const child = server!;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const admin = new Redis(port, '127.0.0.1', { retryStrategy: () => null, maxRetriesPerRequest: 0 });
    admin.on('error', () => undefined);
    await admin.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
    admin.disconnect();
    await exited;
    server = undefined;
  }

  const call = async (method: string, path: string, body?: unknown) => {
    const started = Date.now();
    const response = await fetch(`${gateway.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const json = (await response.json()) as { error?: { code: string; message: string } };
    return { status: response.status, json, ms: Date.now() - started, retryAfter: response.headers.get('retry-after') };
  };

  beforeAll(async () => {
    port = await freePort();
    await startRedis();
    const config = configSchema.parse({
      redis: { url: `redis://127.0.0.1:${port}/0` },
      model: { path: 'unused.xml' },
      gateway: { port: 0, token: TOKEN },
    });
    gateway = await startGateway(config, { logger: pino({ level: 'silent' }) });
    redis = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: null });
    redis.on('error', () => undefined);
  });

  afterAll(async () => {
    if (server?.pid) process.kill(server.pid, 'SIGCONT');
    await gateway?.stop();
    redis?.disconnect();
    if (server) await stopRedis();
  });

  it('answers every REST call with 503 within ~2 s while Redis is down, and applies none of them when it returns', async () => {
    expect((await call('POST', '/api/streams', { id: 'before', url: 'rtsp://10.0.0.7/x', enabled: false })).status).toBe(201);
    await stopRedis();

    const calls: Array<[string, string, unknown?]> = [
      ['POST', '/api/streams', { id: 'during-outage', url: 'rtsp://10.0.0.8/x' }],
      ['GET', '/api/streams'],
      ['GET', '/api/streams/before'],
      ['PATCH', '/api/streams/before', { fps: 3 }],
      ['DELETE', '/api/streams/before'],
    ];
    for (const [method, path, body] of calls) {
      const reply = await call(method, path, body);
      expect(reply.status, `${method} ${path}`).toBe(503);
      expect(reply.json.error?.code).toBe('PS_REDIS_UNAVAILABLE');
      expect(reply.json.error?.message).toMatch(/^Redis is unreachable: nothing was read or changed|^Redis did not answer within 2 s: the request is not confirmed/);
      expect(reply.retryAfter).toBe('2');
      expect(reply.ms, `${method} ${path} took ${reply.ms} ms`).toBeLessThan(ANSWER_WITHIN_MS);
    }
    // The process keeps serving what needs no Redis.
    expect((await call('GET', '/healthz')).status).toBe(200);
    const ready = await call('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.ms).toBeLessThan(ANSWER_WITHIN_MS);

    await startRedis();
    await waitFor(async () => (await call('GET', '/api/streams')).status === 200, 20_000, 'REST to work again');
    await waitFor(async () => (await call('GET', '/readyz')).status === 200, 20_000, 'the gateway to be ready again');
    // Anything queued would have been sent on reconnect; give it time to show up if it were there.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await redis.hexists(keys.streams, 'during-outage')).toBe(0);
    expect((await call('POST', '/api/streams', { id: 'after', url: 'rtsp://10.0.0.9/x', enabled: false })).status).toBe(201);
    expect(await redis.hexists(keys.streams, 'after')).toBe(1);
  }, 60_000);

  it('says "not confirmed" when Redis hangs instead of dying; a hung Redis applies the request when it resumes', async () => {
    process.kill(server!.pid!, 'SIGSTOP');
    let reply: Awaited<ReturnType<typeof call>>;
    try {
      reply = await call('POST', '/api/streams', { id: 'while-hung', url: 'rtsp://10.0.0.10/x', enabled: false });
    } finally {
      process.kill(server!.pid!, 'SIGCONT');
    }
    expect(reply.status).toBe(503);
    expect(reply.json.error?.message).toMatch(/^Redis did not answer within 2 s: the request is not confirmed; .*GET \/api\/streams shows whether it took effect/);
    expect(reply.ms).toBeGreaterThanOrEqual(1_900);
    expect(reply.ms).toBeLessThan(ANSWER_WITHIN_MS);
    await waitFor(async () => (await redis.hexists(keys.streams, 'while-hung')) === 1, 5_000, 'the hung request to be applied on resume');
    expect((await call('GET', '/api/streams/while-hung')).status).toBe(200);
  }, 30_000);
});
