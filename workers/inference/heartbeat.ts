import { hostname } from 'node:os';
import type { RedisClient } from '../../pipeline/redis/client.js';
import type { Metrics } from '../../pipeline/obs/metrics.js';
import { encodeWorkerInfo } from '../../pipeline/redis/codec.js';
import { keys, WORKER_INFO_TTL_SEC } from '../../pipeline/redis/keys.js';
import type { BusyClock } from './busy-clock.js';

/**
 * The worker's presence: its score in keys.workers (workers size their fair share of streams from the live count)
 * and its info hash keys.workerInfo (streams, utilisation, held frames, over capacity; the gateway samples it for
 * /metrics).
 */
export class WorkerHeartbeat {
  constructor(
    private readonly redis: RedisClient,
    private readonly options: {
      processId: string;
      /** Members not seen for this long count as dead; after 10x they are removed. */
      leaseMs: number;
      busy: BusyClock;
      metrics?: Metrics;
      status: () => { streams: string[]; inFlightBatches: number; heldFrames: number; overCapacity?: boolean };
    },
  ) {}

  /** Marks this worker alive and returns how many workers are (at least 1: this one). */
  async beat(now = Date.now()): Promise<number> {
    const { processId, leaseMs } = this.options;
    await this.redis.multi().zadd(keys.workers, now, processId).zremrangebyscore(keys.workers, '-inf', now - 10 * leaseMs).exec();
    return Math.max(1, await this.redis.zcount(keys.workers, now - leaseMs, '+inf'));
  }

  async publishInfo(workersAlive: number): Promise<void> {
    const { processId, busy, metrics } = this.options;
    const utilisation = busy.sample();
    metrics?.workerUtilisation.set({ worker: processId }, utilisation);
    const info = encodeWorkerInfo({ processId, host: hostname(), pid: process.pid, utilisation, workers: workersAlive, ts: Date.now(), ...this.options.status() });
    await this.redis.multi().hset(keys.workerInfo(processId), info).expire(keys.workerInfo(processId), WORKER_INFO_TTL_SEC).exec();
  }

  /** Leaves at once (a clean stop), so the others rebalance without waiting for the lease time. */
  async remove(): Promise<void> {
    await this.redis.multi().zrem(keys.workers, this.options.processId).del(keys.workerInfo(this.options.processId)).exec();
  }
}
