import type { RedisTarget } from '../../pipeline/redis/client.js';
import { summarize } from './stats.js';

/**
 * What WAIT adds to one commit, isolated from frame copying: `rounds` small transactions (XADD of a ~3.6 KB
 * result-sized entry + XLEN, like a commit) on one stream, alternating without and with `WAIT 1`, so both see the
 * same load. Only meaningful where the stream's master has a replica (the `--replicas` runs).
 */

export interface WaitCost {
  rounds: number;
  plain_ms: { p50: number; p99: number };
  wait_ms: { p50: number; p99: number };
  /** WAIT replies below 1 (the replica did not confirm in time). */
  short: number;
}

export async function measureWaitCost(target: RedisTarget, rounds = 1_000): Promise<WaitCost> {
  const { createRedis } = await import('../../pipeline/redis/client.js');
  const { createLogger } = await import('../../pipeline/obs/logger.js');
  const { keys } = await import('../../pipeline/redis/keys.js');
  const { commit } = await import('../../pipeline/redis/transaction.js');
  const redis = createRedis(target, { name: 'bench-wait', logger: createLogger('bench', 'warn') });
  const key = keys.results('wait-cost');
  const entry = 'x'.repeat(3_600);
  const plain: number[] = [];
  const waited: number[] = [];
  let short = 0;
  try {
    for (let i = 0; i < rounds * 2; i += 1) {
      const withWait = i % 2 === 1;
      const started = performance.now();
      const { replicated } = await commit(redis, (tx) => tx.xadd(key, 'MAXLEN', '~', 1_000, '*', 'r', entry).xlen(key), withWait ? { replicas: 1, timeoutMs: 1_000 } : undefined);
      (withWait ? waited : plain).push(performance.now() - started);
      if (withWait && (replicated ?? 0) < 1) short += 1;
    }
  } finally {
    redis.disconnect();
  }
  const pick = (samples: number[]) => {
    const { p50, p99 } = summarize(samples);
    return { p50, p99 };
  };
  return { rounds, plain_ms: pick(plain), wait_ms: pick(waited), short };
}
