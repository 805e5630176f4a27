import type { Redis } from 'ioredis';
import type { StreamRegistry } from '../../pipeline/streams/registry.js';
import { describeError } from '../../pipeline/errors.js';
import { sendJson, type Route } from '../http.js';

/**
 * /healthz: the process is up and serving HTTP (liveness; never touches Redis, so a Redis outage does not get the
 * gateway killed). /readyz: Redis answers and the registry is readable (readiness: route traffic here).
 */

const READY_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS).unref()),
  ]);
}

export function healthRoutes(deps: { redis: Redis; registry: StreamRegistry }): Route[] {
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
          await withTimeout(deps.redis.ping(), 'redis');
          const streams = await withTimeout(deps.registry.list(), 'the stream registry');
          sendJson(res, 200, { status: 'ready', streams: streams.length });
        } catch (error) {
          sendJson(res, 503, { status: 'not ready', reason: describeError(error) });
        }
      },
    },
  ];
}
