import type { RedisTarget } from '../../pipeline/redis/client.js';
import { processSample } from './processes.js';
import { summarize } from './stats.js';

/** The follow phase of `bench transport` (cli/bench/transport.ts): the read path over many mostly idle streams. */

export interface FollowRun {
  streams: number;
  entries_per_s: number;
  /** XADD -> read, ms. */
  latency_p50_ms: number;
  latency_p99_ms: number;
  /** Read rounds (one blocking read, or one poll of every stream) per second. */
  rounds_per_s: number;
  redis_cores: number;
  reader_cores: number;
}

/** One new entry every FOLLOW_INTERVAL_MS, to the streams in turn. */
export const FOLLOW_INTERVAL_MS = 50;

/**
 * The read path on mostly idle streams, in this process: one reader follows `followStreams` streams (XREAD, like
 * the gateway's results follower) while one entry a FOLLOW_INTERVAL_MS goes to one of them. On one Redis the
 * reader blocks; on a cluster it polls (stream-reads.ts), which costs rounds and adds latency after idle spells.
 */
export async function measureFollow(deployment: { target: RedisTarget; pids: number[] }, options: { followStreams: number; followSeconds: number }): Promise<FollowRun> {
  const { createRedis } = await import('../../pipeline/redis/client.js');
  const { createLogger } = await import('../../pipeline/obs/logger.js');
  const { StreamReads } = await import('../../pipeline/redis/stream-reads.js');
  const { keys } = await import('../../pipeline/redis/keys.js');
  const logger = createLogger('bench', 'warn');
  const writer = createRedis(deployment.target, { name: 'bench-follow-write', logger });
  const readerConnection = createRedis(deployment.target, { name: 'bench-follow-read', logger });
  const ids = Array.from({ length: options.followStreams }, (_, i) => `f-${i}`);
  const cursors = new Map<string, string>();
  for (const id of ids) cursors.set(keys.results(id), String(await writer.xadd(keys.results(id), '*', 'r', '0')));
  const reads = new StreamReads(readerConnection);
  const latencies: number[] = [];
  let rounds = 0;
  let running = true;
  const reading = (async () => {
    while (running) {
      const { batches } = await reads.read([...cursors].map(([key, id]) => ({ key, id })), { count: 64, blockMs: 100 });
      rounds += 1;
      const now = Date.now();
      for (const { key, entries } of batches) {
        for (const entry of entries) latencies.push(now - Number(entry.fields?.[1] ?? now));
        if (entries.length > 0) cursors.set(key, entries.at(-1)!.id);
      }
    }
  })();
  const cpuStart = deployment.pids.map((pid) => processSample(pid).cpuSeconds);
  const ownStart = process.cpuUsage();
  const started = Date.now();
  for (let i = 0; Date.now() - started < options.followSeconds * 1000; i += 1) {
    await writer.xadd(keys.results(ids[i % ids.length]!), '*', 'r', String(Date.now()));
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_INTERVAL_MS));
  }
  const elapsed = (Date.now() - started) / 1000;
  const redisCores = deployment.pids.map((pid, i) => processSample(pid).cpuSeconds - cpuStart[i]!).reduce((a, b) => a + b, 0) / elapsed;
  const own = process.cpuUsage(ownStart);
  const roundsPerS = rounds / elapsed;
  running = false;
  await reads.interrupt();
  await reading;
  writer.disconnect();
  readerConnection.disconnect();
  const latency = summarize(latencies);
  return {
    streams: options.followStreams,
    entries_per_s: latencies.length / elapsed,
    latency_p50_ms: latency.p50,
    latency_p99_ms: latency.p99,
    rounds_per_s: roundsPerS,
    redis_cores: redisCores,
    // The writer shares this process; it is a small share next to the reader's polls.
    reader_cores: (own.user + own.system) / 1e6 / elapsed,
  };
}

