/**
 * Issue 10 row 3 in one process: a Redis that loses its data (FLUSHDB here; a restart without persistence in
 * test/integration/faults.test.ts) gets the config's streams back from the gateway within the seed check interval,
 * and /readyz says not ready, naming why, until then. Row 6: /readyz names Redis's memory when it is at maxmemory.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import { startGateway, type RunningGateway } from '../../gateway/main.js';
import { createLogger } from '../../pipeline/obs/logger.js';
import { keys } from '../../pipeline/redis/keys.js';
import { SEED_CHECK_MS } from '../../pipeline/streams/config-seed.js';
import { testRedisUrl } from '../support/env.js';

const DB = 58;
const config = configSchema.parse({
  redis: { url: testRedisUrl(DB) },
  model: { path: 'unused.xml' },
  gateway: { port: 0, host: '127.0.0.1' },
  streams: [{ id: 'door', url: 'test://ball', enabled: false }],
});

describe('gateway: Redis that comes back empty', () => {
  let redis: Redis;
  let gateway: RunningGateway;
  const get = async (path: string) => {
    const response = await fetch(`${gateway.url}${path}`);
    return { status: response.status, json: (await response.json()) as any };
  };

  beforeAll(async () => {
    redis = new Redis(testRedisUrl(DB));
    await redis.flushdb();
    gateway = await startGateway(config, { logger: createLogger('reseed-test', 'error') });
  });

  afterAll(async () => {
    await gateway?.stop();
    await redis?.config('SET', 'maxmemory', '0');
    await redis?.flushdb();
    redis?.disconnect();
  });

  it('re-seeds the config streams; /readyz is not ready (with the reason) until then', async () => {
    expect((await get('/readyz')).status).toBe(200);
    await redis.flushdb();
    const notReady = await get('/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.json.reason).toMatch(/stream registry is not seeded/);
    const deadline = Date.now() + SEED_CHECK_MS * 3;
    let ready = notReady;
    while (ready.status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      ready = await get('/readyz');
    }
    expect(ready.status).toBe(200);
    expect(await redis.exists(keys.seedMarker)).toBe(1);
    // The gateway's catalog follows the registry events the re-seed emitted.
    const listed = await get('/api/streams');
    expect(listed.json.streams.map((s: { id: string }) => s.id)).toEqual(['door']);
  });

  it('/readyz names the memory when Redis is at maxmemory, and is ready again when it is raised', async () => {
    const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
    await redis.config('SET', 'maxmemory', String(used - 64 * 1024));
    try {
      const full = await get('/readyz');
      expect(full.status).toBe(503);
      expect(full.json.reason).toMatch(/^redis out of memory: used [\d.]+ MB of maxmemory [\d.]+ MB$/);
    } finally {
      await redis.config('SET', 'maxmemory', '0');
    }
    expect((await get('/readyz')).status).toBe(200);
  });
});
