import type { RedisClient } from '../../pipeline/redis/client.js';
import type { StreamRegistry } from '../../pipeline/streams/registry.js';
import { describeError } from '../../pipeline/errors.js';
import { processRedisHealth } from '../../pipeline/redis/health.js';
import { redisOutOfMemory } from '../../pipeline/redis/memory.js';
import { registryNotSeeded } from '../../pipeline/streams/config-seed.js';
import { sendJson, type Route } from '../http.js';

/**
 * /healthz: the process is up and serving HTTP (liveness; never touches Redis, so a Redis outage does not get the
 * gateway killed). /readyz (readiness: route traffic here): Redis answers, it has the registry (a Redis that came
 * back empty is not ready until the config's streams are seeded again), it accepts writes (not at maxmemory), and
 * the registry is readable. Not ready is 503 with the reason.
 */

const READY_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS).unref()),
  ]);
}

/** `redis` and `registry` should sit on the gateway's fail-fast connection: /readyz must answer at once in an outage. */
export function healthRoutes(deps: { redis: RedisClient; registry: StreamRegistry }): Route[] {
  return [
    {
      method: 'GET',
      path: /^\/healthz$/,
      public: true,
      handle({ res }) {
        sendJson(res, 200, { status: 'ok' });
      },
    },
    {
      method: 'GET',
      path: /^\/readyz$/,
      public: true,
      async handle({ res }) {
        try {
          // The ping decides (the fail-fast connection refuses commands at once while it is down: ioredis
          // "enableOfflineQueue"); the process's RedisHealth only says since when. It is not asked first: on a cluster
          // it can stay "down" after a failover while every slot is served again.
          await withTimeout(deps.redis.ping(), 'redis').catch((error: unknown) => {
            const outage = processRedisHealth.current();
            if (outage) throw new Error(`redis unreachable since ${new Date(outage.since).toISOString()}: ${outage.reason}`);
            const text = describeError(error);
            throw new Error(`redis unreachable: ${/enableOfflineQueue|max retries per request/.test(text) ? 'no connection' : text}`);
          });
          const problem = (await withTimeout(registryNotSeeded(deps.redis), 'redis')) ?? (await withTimeout(redisOutOfMemory(deps.redis), 'redis'));
          if (problem) throw new Error(problem);
          const streams = await withTimeout(deps.registry.list(), 'the stream registry');
          sendJson(res, 200, { status: 'ready', streams: streams.length });
        } catch (error) {
          sendJson(res, 503, { status: 'not ready', reason: describeError(error) });
        }
      },
    },
  ];
}
