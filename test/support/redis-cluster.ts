import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { repoRoot } from '../../pipeline/assets.js';
import { keySlot } from '../../pipeline/redis/per-node.js';
import { onlineReplicas } from '../../pipeline/redis/replica-guard.js';
import { requireAssets } from './assets.js';
import { waitUntil } from './wait.js';

/**
 * The Redis Cluster that scripts/test.sh starts (scripts/redis-cluster.sh: 3 masters + 3 replicas on loopback),
 * named by POSESTREAM_TEST_REDIS_CLUSTER (start-up node URLs, comma-separated), and what the failover tests do
 * to it: find the master serving a key, kill -9 it, wait for its replica to take over, bring it back (it rejoins
 * as a replica) so the next test finds 3 + 3 again. A cluster has one database: tests FLUSHALL its masters.
 */

export const testRedisCluster: string[] | undefined = process.env.POSESTREAM_TEST_REDIS_CLUSTER?.split(',')
  .map((url) => url.trim())
  .filter((url) => url !== '');

/** `describe.skipIf(skipWithoutCluster())`: skips without a test cluster, or fails when CI requires everything. */
export function skipWithoutCluster(): boolean {
  if (testRedisCluster && testRedisCluster.length > 0) return false;
  const message = 'no test Redis Cluster: set POSESTREAM_TEST_REDIS_CLUSTER (scripts/test.sh starts one with scripts/redis-cluster.sh)';
  if (requireAssets) throw new Error(`${message} (POSESTREAM_REQUIRE_ASSETS=1)`);
  console.warn(`skipping: ${message}`);
  return true;
}

interface ClusterNode {
  id: string;
  port: number;
  master: boolean;
  failed: boolean;
  connected: boolean;
  /** Slot ranges served (masters). */
  slots: Array<[number, number]>;
}

const run = promisify(execFile);

export class TestCluster {
  constructor(private readonly urls: string[] = testRedisCluster ?? []) {}

  /** CLUSTER NODES as seen by the first node that answers. */
  async nodes(): Promise<ClusterNode[]> {
    for (const url of [...this.urls, ...(await this.knownPorts()).map((port) => `redis://127.0.0.1:${port}`)]) {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        const text = String(await probe.call('CLUSTER', 'NODES'));
        return text
          .trim()
          .split('\n')
          .map((line) => {
            const [id, address, flags, , , , , link, ...slots] = line.split(' ');
            return {
              id: id!,
              port: Number(/:(\d+)@/.exec(address!)?.[1]),
              master: flags!.includes('master'),
              failed: flags!.includes('fail'),
              connected: link === 'connected',
              slots: slots.filter((s) => /^\d/.test(s)).map((s) => {
                const [from, to] = s.split('-').map(Number);
                return [from!, to ?? from!] as [number, number];
              }),
            };
          });
      } catch {
        // try the next node
      } finally {
        probe.disconnect();
      }
    }
    throw new Error('no node of the test cluster answers');
  }

  /** The port of the master serving `key`'s slot. */
  async masterOf(key: string): Promise<number> {
    const slot = keySlot(key);
    const master = (await this.nodes()).find((node) => node.master && !node.failed && node.slots.some(([from, to]) => slot >= from && slot <= to));
    if (!master) throw new Error(`no master serves slot ${slot} (${key})`);
    return master.port;
  }

  /** FLUSHALL on every master (replicas follow). */
  async flush(): Promise<void> {
    for (const node of (await this.nodes()).filter((n) => n.master && !n.failed)) {
      const redis = new Redis(node.port, '127.0.0.1', { maxRetriesPerRequest: 0 });
      try {
        await redis.flushall();
      } finally {
        redis.disconnect();
      }
    }
  }

  /** kill -9 the node's server (its PID from scripts/redis-cluster.sh), as a crash would. */
  async kill(port: number): Promise<void> {
    const pid = Number(readFileSync(path.join(await this.dir(), String(port), 'redis.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
  }

  /** Resolves when `key`'s slot is served by a live master other than `oldPort`: the failover is done. */
  async waitForFailover(key: string, oldPort: number, timeoutMs = 20_000): Promise<number> {
    return waitUntil(
      async () => {
        const port = await this.masterOf(key);
        return port !== oldPort ? port : undefined;
      },
      timeoutMs,
      `a replica taking over the slot of ${key} from ${oldPort}`,
      100,
    );
  }

  /** Starts every node that is down (scripts/redis-cluster.sh start) and waits until all are connected, none failed. */
  async restore(timeoutMs = 30_000): Promise<void> {
    const ports = await this.knownPorts();
    const base = Math.min(...ports);
    const nodes = await this.nodes();
    const masters = nodes.filter((n) => n.master && n.slots.length > 0).length;
    await run('bash', [path.join(repoRoot, 'scripts', 'redis-cluster.sh'), 'start'], {
      env: {
        ...process.env,
        POSESTREAM_REDIS_CLUSTER_PORT: String(base),
        POSESTREAM_REDIS_CLUSTER_MASTERS: String(masters),
        POSESTREAM_REDIS_CLUSTER_REPLICAS: String(ports.length / masters - 1),
      },
    });
    const replicas = ports.length / masters - 1;
    await waitUntil(
      async () => {
        const now = await this.nodes();
        if (now.length !== ports.length || !now.every((n) => n.connected && !n.failed)) return undefined;
        // A node that came back is a replica doing its full sync: lossless writes wait only for replicas online.
        const online = await Promise.all(now.filter((n) => n.master && n.slots.length > 0).map((n) => this.onlineReplicas(n.port)));
        return online.every((count) => count >= replicas) ? true : undefined;
      },
      timeoutMs,
      'every cluster node connected again and every replica in sync',
      200,
    );
  }

  private async onlineReplicas(port: number): Promise<number> {
    const node = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null });
    node.on('error', () => undefined);
    try {
      return onlineReplicas(String(await node.info('replication')));
    } finally {
      node.disconnect();
    }
  }

  private async knownPorts(): Promise<number[]> {
    const fromUrls = this.urls.map((url) => Number(new URL(url).port));
    try {
      const base = Math.min(...fromUrls);
      const dir = path.join(repoRoot, 'build', `redis-cluster-${base}`);
      const { stdout } = await run('ls', [dir]);
      return stdout.split('\n').filter((name) => /^\d+$/.test(name)).map(Number).sort((a, b) => a - b);
    } catch {
      return fromUrls;
    }
  }

  private async dir(): Promise<string> {
    return path.join(repoRoot, 'build', `redis-cluster-${Math.min(...(await this.knownPorts()))}`);
  }
}
