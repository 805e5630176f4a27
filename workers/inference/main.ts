import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { PosestreamConfig } from '../../config/schema.js';
import { describeError } from '../../pipeline/errors.js';
import type { Logger } from '../../pipeline/obs/logger.js';
import type { Metrics } from '../../pipeline/obs/metrics.js';
import { createRedis } from '../../pipeline/redis/client.js';
import { FrameConsumer, type FrameDelivery } from '../../pipeline/redis/frame-stream.js';
import { keys, WORKER_INFO_TTL_SEC } from '../../pipeline/redis/keys.js';
import { encodeWorkerInfo } from '../../pipeline/redis/codec.js';
import { ResultPublisher, ResultReader, ViewerCheck } from '../../pipeline/redis/result-stream.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import { BatchRunner, type InferenceEngine } from './batch-runner.js';
import { Batcher } from './batcher.js';
import { PoseEngine } from './pose-engine.js';
import { SeqGuard } from './result-builder.js';
import { planLeases, StreamLeases } from './stream-leases.js';
import { StreamDirectory } from './stream-directory.js';
import { BusyClock } from './busy-clock.js';

export interface WorkerHandle {
  readonly processId: string;
  /** Streams this worker currently owns. */
  readonly streams: string[];
  /** What inference runs on (for logs and benchmark reports). */
  readonly engine: { precision: string; device: string; requests: number; maxBatch: number } | undefined;
  /** Stops reading, finishes and publishes what is in flight, hands its streams back, closes. */
  stop(): Promise<void>;
}

export interface WorkerOptions {
  logger: Logger;
  processId?: string;
  metrics?: Metrics;
  /** Use this engine instead of compiling config.model (benchmarks share one engine). Not disposed by stop(). */
  engine?: InferenceEngine & { requests: number; capacity?: number };
}

/** A blocking read returns after this long without frames, so stop() and new streams are noticed quickly. */
const READ_BLOCK_MS = 100;

/**
 * The inference role: discovers frame streams in the registry, owns a fair share of them (one owner per stream),
 * reads their frames through the consumer group, batches across streams, infers, and publishes results + acks.
 * Bounds: at most engine.capacity * batchSize frames are held in this process (capacity = infer requests plus one
 * queued batch each); reading waits for room, so the rest waits in Redis under its own bound.
 */
export async function startWorker(config: PosestreamConfig, options: WorkerOptions): Promise<WorkerHandle> {
  const processId = options.processId ?? `${hostname()}-${process.pid}`;
  const logger = options.logger.child({ worker: processId });
  const { batchSize, maxBatchWaitMs, claimIdleMs } = config.worker;
  const leaseMs = claimIdleMs;

  const engine =
    options.engine ??
    (await PoseEngine.create({
      modelPath: config.model.path,
      device: config.model.device,
      hint: config.model.hint,
      maxBatch: batchSize,
      ...(config.worker.inferRequests === undefined ? {} : { inferRequests: config.worker.inferRequests }),
      cacheDir: config.model.cacheDir,
      decode: { confidence: config.model.confidence, iou: config.model.iou, maxDetections: config.model.maxDetections },
    }));
  const ownsEngine = options.engine === undefined;
  if (engine instanceof PoseEngine) {
    logger.info({ model: config.model.path, device: engine.device, precision: engine.precision, requests: engine.requests, batchSize }, 'inference engine ready');
  }

  const redis = createRedis(config.redis.url, { name: 'worker', logger });
  const readRedis = createRedis(config.redis.url, { name: 'worker-read', logger });
  const registry = new StreamRegistry(redis, { logger });
  await registry.migrateLegacyLayout();
  const results = new ResultReader(redis);
  const consumer = new FrameConsumer(readRedis, { consumer: processId, claimIdleMs });
  const staleClaimer = new FrameConsumer(redis, { consumer: processId, claimIdleMs });
  // A new owner takes over everything its dead predecessor left unacknowledged, however recently it was read.
  const takeover = new FrameConsumer(redis, { consumer: processId, claimIdleMs: 0 });
  const onBadEntry = (streamId: string, entryId: string, error: Error) => {
    options.metrics?.framesDropped.inc({ stream_id: streamId, reason: 'corrupt' });
    logger.warn({ streamId, entryId, err: error.message }, 'corrupt frame entry dropped');
  };
  for (const c of [consumer, staleClaimer, takeover]) c.onBadEntry = onBadEntry;

  /** Owned streams that are read; a stream being handed back is owned but no longer read. */
  const readable = new Set<string>();
  const releasing = new Set<string>();
  const leases = new StreamLeases(redis, {
    processId,
    leaseMs,
    onLost: (streamId) => {
      readable.delete(streamId);
      logger.warn({ streamId }, 'stream lease lost; another worker owns it now');
    },
  });
  const guard = new SeqGuard();
  const busy = new BusyClock();
  const runner = new BatchRunner({
    redis,
    engine,
    ack: consumer,
    publisher: new ResultPublisher({ retention: config.results.retention }),
    viewers: new ViewerCheck(redis),
    confirmOwned: (ids) => leases.confirm(ids),
    guard,
    processId,
    logger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });

  /** Entries held in this process (batcher or in flight), to skip duplicates and to know when a stream is drained. */
  const held = new Set<string>();
  const heldPerStream = new Map<string, number>();
  const heldKey = (d: FrameDelivery) => `${d.streamId}\u0000${d.entryId}`;
  const batcher = new Batcher<FrameDelivery>({
    batchSize,
    maxWaitMs: maxBatchWaitMs,
    // Every request busy plus one batch queued behind each (the engine's capacity), so a request never idles
    // while the previous batch publishes; the engine rejects more than that.
    maxInFlight: engine.capacity ?? engine.requests,
    isInferable: (d) => d.entry.kind === 'frame',
    run: async (batch) => {
      busy.start();
      try {
        await runner.run(batch);
      } finally {
        busy.end();
        for (const d of batch) {
          held.delete(heldKey(d));
          heldPerStream.set(d.streamId, (heldPerStream.get(d.streamId) ?? 1) - 1);
        }
      }
    },
    onError: (error, batch) => logger.error({ err: describeError(error), frames: batch.length }, 'batch not published; its frames will be claimed again'),
  });
  const admit = (deliveries: FrameDelivery[]) => {
    for (const d of deliveries) {
      if (held.has(heldKey(d))) continue;
      held.add(heldKey(d));
      heldPerStream.set(d.streamId, (heldPerStream.get(d.streamId) ?? 0) + 1);
      batcher.add(d);
    }
  };

  const directory = new StreamDirectory(registry, logger);
  await directory.start();

  let running = true;
  let workersAlive = 1;

  async function acquire(streamId: string): Promise<void> {
    if (!(await leases.tryAcquire(streamId))) return;
    guard.seed(streamId, await lastPublished(results, streamId));
    admit(await takeover.claimStale([streamId], 10_000));
    if (running) readable.add(streamId);
    logger.info({ streamId }, 'stream taken');
  }

  async function rebalance(): Promise<void> {
    const now = Date.now();
    await redis
      .multi()
      .zadd(keys.workers, now, processId)
      .zremrangebyscore(keys.workers, '-inf', now - 10 * leaseMs)
      .exec();
    workersAlive = Math.max(1, await redis.zcount(keys.workers, now - leaseMs, '+inf'));
    await leases.renew();
    const wanted = directory.ids();
    for (const id of leases.streams) {
      if (!wanted.has(id) && (heldPerStream.get(id) ?? 0) === 0) {
        readable.delete(id);
        await leases.release(id);
      }
    }
    const plan = planLeases({ streams: wanted.size, workers: workersAlive, held: leases.streams.filter((id) => !releasing.has(id)) });
    for (const id of plan.release) {
      readable.delete(id);
      releasing.add(id);
    }
    for (const id of [...releasing]) {
      if ((heldPerStream.get(id) ?? 0) > 0) continue;
      releasing.delete(id);
      await leases.release(id);
      logger.info({ streamId: id }, 'stream handed back for an even spread');
    }
    if (plan.room > 0) {
      const free = shuffle([...wanted].filter((id) => !leases.streams.includes(id)));
      let room = plan.room;
      for (const id of free) {
        if (room <= 0 || !running) break;
        const before = leases.streams.length;
        await acquire(id);
        if (leases.streams.length > before) room -= 1;
      }
    }
    await publishInfo();
  }

  async function publishInfo(): Promise<void> {
    const utilisation = busy.sample();
    options.metrics?.workerUtilisation.set({ worker: processId }, utilisation);
    await redis
      .multi()
      .hset(
        keys.workerInfo(processId),
        encodeWorkerInfo({
          processId,
          host: hostname(),
          pid: process.pid,
          streams: leases.streams,
          utilisation,
          inFlightBatches: batcher.inFlight,
          heldFrames: batcher.size,
          workers: workersAlive,
          ts: Date.now(),
        }),
      )
      .expire(keys.workerInfo(processId), WORKER_INFO_TTL_SEC)
      .exec();
  }

  const membershipLoop = every(Math.max(100, Math.floor(leaseMs / 3)), () => rebalance(), logger, 'stream ownership update failed');
  const claimLoop = every(claimIdleMs, async () => {
    const owned = [...readable];
    if (owned.length > 0) admit(await staleClaimer.claimStale(owned, batchSize * 4));
  }, logger, 'claiming stale frames failed');
  await membershipLoop.runNow();

  const readLoop = (async () => {
    let failures = 0;
    while (running) {
      await batcher.whenCapacity();
      const ids = [...readable];
      if (ids.length === 0 || !running) {
        await sleep(READ_BLOCK_MS);
        continue;
      }
      try {
        const count = Math.max(1, Math.ceil(batcher.capacity / ids.length));
        const deliveries = await consumer.read(ids, { count, blockMs: READ_BLOCK_MS });
        failures = 0;
        admit(deliveries.filter((d) => leases.streams.includes(d.streamId)));
      } catch (error) {
        if (!running) break;
        failures += 1;
        if (failures === 1) logger.warn({ err: describeError(error) }, 'reading frames failed; retrying');
        await sleep(Math.min(5_000, 200 * failures));
      }
    }
  })();

  return {
    processId,
    get streams() {
      return leases.streams;
    },
    engine: engine instanceof PoseEngine ? { precision: engine.precision, device: engine.device, requests: engine.requests, maxBatch: engine.maxBatch } : undefined,
    async stop() {
      if (!running) return;
      running = false;
      await claimLoop.stop();
      await readLoop;
      // Leases are still renewed while the last batches publish; only then does ownership stop.
      await batcher.drain();
      await runner.idle();
      await membershipLoop.stop();
      directory.stop();
      await leases.releaseAll().catch(() => undefined);
      await redis.multi().zrem(keys.workers, processId).del(keys.workerInfo(processId)).exec().catch(() => undefined);
      if (ownsEngine && engine instanceof PoseEngine) await engine.dispose();
      readRedis.disconnect();
      await redis.quit().catch(() => redis.disconnect());
      logger.info('worker stopped');
    },
  };
}

/** The newest published result of a stream, so a new owner never publishes an older frame after it. */
async function lastPublished(results: ResultReader, streamId: string): Promise<{ seq: number; captureTs: number } | undefined> {
  const newest = await results.newest(streamId);
  return newest?.result.kind === 'pose' ? { seq: newest.result.seq, captureTs: newest.result.captureTs } : undefined;
}

/** Runs fn every `ms` (never overlapping itself), logging failures at most once per outage. */
function every(ms: number, fn: () => Promise<void>, logger: Logger, message: string) {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let failing = false;
  let current: Promise<void> = Promise.resolve();
  const tick = async () => {
    try {
      await fn();
      failing = false;
    } catch (error) {
      if (!failing) logger.warn({ err: describeError(error) }, message);
      failing = true;
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      current = tick().finally(schedule);
    }, ms);
  };
  return {
    async runNow() {
      await tick();
      schedule();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      return current;
    },
  };
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
