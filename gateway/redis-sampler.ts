import type { RedisClient } from '../pipeline/redis/client.js';
import type { Logger } from '../pipeline/obs/logger.js';
import type { Metrics } from '../pipeline/obs/metrics.js';
import { workerOverCapacity, workerUtilisation } from '../pipeline/redis/codec.js';
import { keys, WORKER_INFO_TTL_SEC } from '../pipeline/redis/keys.js';
import { execPerNode } from '../pipeline/redis/per-node.js';

/**
 * Gauges that only Redis knows, sampled on a timer (never per scrape or per frame): frames waiting in each frame
 * stream (XLEN) and each live inference process's utilisation from its heartbeat hash.
 */

export class RedisSampler {
  private timer: NodeJS.Timeout | undefined;
  private readonly reportedWorkers = new Set<string>();
  private warned = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: { metrics: Metrics; logger: Logger; streams: () => string[]; intervalMs?: number },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), this.options.intervalMs ?? 5_000);
    this.timer.unref();
    void this.sample();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async sample(): Promise<void> {
    const { metrics } = this.options;
    try {
      const streams = this.options.streams();
      const lengths = await execPerNode(this.redis, streams, keys.frames, (pipeline, id) => pipeline.xlen(keys.frames(id)));
      metrics.queueDepth.reset();
      for (const id of streams) metrics.queueDepth.set({ stream_id: id }, Number(lengths.get(id)?.[1] ?? 0));

      const alive = await this.redis.zrangebyscore(keys.workers, Date.now() - WORKER_INFO_TTL_SEC * 1000, '+inf');
      // Every worker hash is a {_global} key: one slot, one pipeline.
      const infos = this.redis.pipeline();
      for (const id of alive) infos.hgetall(keys.workerInfo(id));
      const replies = (await infos.exec()) ?? [];
      for (const id of this.reportedWorkers) {
        if (alive.includes(id)) continue;
        metrics.workerUtilisation.remove({ worker: id });
        metrics.workerOverCapacity.remove({ worker: id });
      }
      this.reportedWorkers.clear();
      alive.forEach((id, i) => {
        const utilisation = workerUtilisation(replies[i]?.[1]);
        if (utilisation === undefined) return;
        metrics.workerUtilisation.set({ worker: id }, utilisation);
        const over = workerOverCapacity(replies[i]?.[1]);
        if (over !== undefined) metrics.workerOverCapacity.set({ worker: id }, over);
        this.reportedWorkers.add(id);
      });
      this.warned = false;
    } catch (error) {
      if (!this.warned) this.options.logger.warn({ err: error }, 'sampling queue depth and worker info from redis failed');
      this.warned = true;
    }
  }
}
