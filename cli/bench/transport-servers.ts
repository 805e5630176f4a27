import { Redis } from 'ioredis';
import { createLogger } from '../../pipeline/obs/logger.js';
import { createRedis, type RedisTarget } from '../../pipeline/redis/client.js';
import { eachServer } from './pipeline-support.js';

/** The Redis servers `bench transport` measures: reachability, emptying, and their PIDs for /proc CPU samples. */

/** One short-lived connection to a single node (not through the cluster client). */
async function withNode<T>(url: string, fn: (node: Redis) => Promise<T>): Promise<T> {
  const node = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  node.on('error', () => undefined);
  try {
    await node.connect();
    return await fn(node);
  } finally {
    node.disconnect();
  }
}

export async function waitForPing(url: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await withNode(url, (node) => node.ping());
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** FLUSHDB on the one Redis, on every master of a cluster. */
export async function flushEverything(target: RedisTarget): Promise<void> {
  const redis = createRedis(target, { name: 'bench-flush', logger: createLogger('bench', 'warn') });
  try {
    await eachServer(redis, (server) => server.flushdb());
  } finally {
    redis.disconnect();
  }
}

/** The server's own PID (INFO server process_id): for /proc samples when it runs on this machine. */
export function serverPid(url: string): Promise<number> {
  return withNode(url, async (node) => Number(/process_id:(\d+)/.exec(await node.info('server'))?.[1]));
}

/** The node URLs, masters first (CLUSTER NODES), so reports list the shards before their replicas. */
export async function mastersFirst(urls: string[]): Promise<string[]> {
  const text = String(await withNode(urls[0]!, (node) => node.call('CLUSTER', 'NODES')));
  const nodes = text
    .trim()
    .split('\n')
    .map((line) => line.split(' '))
    .map(([, address, flags]) => ({ url: `redis://${address!.split('@')[0]}`, master: flags!.includes('master') }));
  return [...nodes.filter((n) => n.master), ...nodes.filter((n) => !n.master)].map((n) => n.url);
}
