import { createServer, type Server } from 'node:net';
import pino from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import { createRedis } from '../../pipeline/redis/client.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import type { StreamState } from '../../pipeline/wire/v1.js';
import { startIngest } from '../../workers/ingest/main.js';
import { testRedisUrl } from '../support/env.js';
import { waitForStreamState } from '../support/wait.js';

/**
 * The ingest applies the source policy again before it opens a stream that came through the API (the gateway
 * checked it at registration, but a name can be rebound, or an entry can reach Redis another way): such a source is
 * never opened, its state says why, and the same URL from the config file is opened as before. Real GStreamer,
 * real Redis; the "internal service" is a TCP listener that counts who connects.
 */

const DB = 46;
const logger = pino({ level: process.env.POSESTREAM_TEST_LOG ?? 'silent' });
const redis = createRedis(testRedisUrl(DB), { name: 'test', logger });
const registry = new StreamRegistry(redis);
let stopIngest: (() => Promise<void>) | undefined;

/** A local TCP service that records every connection (and closes it: it speaks no HTTP). */
async function listener(): Promise<{ server: Server; port: number; connections: () => number }> {
  let count = 0;
  const server = createServer((socket) => {
    count += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, connections: () => count };
}

const waitForState = (streamId: string, predicate: (state: StreamState) => boolean, timeoutMs: number) =>
  waitForStreamState(registry, streamId, predicate, timeoutMs);

beforeEach(async () => {
  await redis.flushdb();
});
afterEach(async () => {
  await stopIngest?.();
  stopIngest = undefined;
});
afterAll(async () => {
  await redis.flushdb();
  redis.disconnect();
});

describe('ingest: the source policy before opening a stream added through the API', () => {
  it('never opens a forbidden API source (its state says why); the same kind of URL from the config is opened', async () => {
    const internal = await listener();
    const configured = await listener();
    try {
      const config = configSchema.parse({
        redis: { url: testRedisUrl(DB) },
        model: { path: 'unused.xml' },
        ingest: { stallTimeoutSec: 5, backoffInitialMs: 200, backoffMaxMs: 400 },
        streams: [{ id: 'from-config', url: `http://127.0.0.1:${configured.port}/clip.mp4` }],
      });
      // As the REST path would have stored them, had the gateway been bypassed or the name been rebound since.
      await registry.add({ id: 'rebound', url: `http://127.0.0.1:${internal.port}/clip.mp4` });
      await registry.add({ id: 'passwd', url: '/etc/passwd', mode: 'lossless' });
      await registry.add({ id: 'pattern', url: 'test://ball' });
      const ingest = await startIngest(config, { logger, processId: 'ingest-policy' });
      stopIngest = ingest.stop;

      const rebound = await waitForState('rebound', (state) => state.state === 'error' && state.restarts >= 2, 10_000);
      expect(rebound.reason).toMatch(/^the host "127\.0\.0\.1" is, or resolves to, a loopback address; streams added through the API may not reach it/);
      const passwd = await waitForState('passwd', (state) => state.state === 'error', 10_000);
      expect(passwd.reason).toMatch(/^local files are off for streams added through the API/);
      expect((await waitForState('pattern', (state) => state.state === 'error', 10_000)).reason).toMatch(/^test patterns are off/);
      // The config stream reached its server (and failed there: it speaks no HTTP), proving the listener counts.
      await expect.poll(() => configured.connections(), { timeout: 15_000 }).toBeGreaterThan(0);
      expect(internal.connections()).toBe(0);
    } finally {
      internal.server.close();
      configured.server.close();
    }
  }, 40_000);

  it('opens an API source the operator allowed (sourcePolicy.allowTestPatterns)', async () => {
    const config = configSchema.parse({
      redis: { url: testRedisUrl(DB) },
      model: { path: 'unused.xml' },
      sourcePolicy: { allowTestPatterns: true },
    });
    await registry.add({ id: 'pattern', url: 'test://ball' });
    const ingest = await startIngest(config, { logger, processId: 'ingest-policy-allowed' });
    stopIngest = ingest.stop;
    await waitForState('pattern', (state) => state.state === 'running', 15_000);
  }, 30_000);
});
