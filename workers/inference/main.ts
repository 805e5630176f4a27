import { hostname } from 'node:os';
import type { PosestreamConfig } from '../../config/schema.js';
import { describeError } from '../../pipeline/errors.js';
import { frameFormatOf } from '../../pipeline/image/i420.js';
import { FollowLoop } from '../../pipeline/follow-loop.js';
import type { Logger } from '../../pipeline/obs/logger.js';
import type { Metrics } from '../../pipeline/obs/metrics.js';
import { createRedis } from '../../pipeline/redis/client.js';
import { FrameConsumer, type FrameDelivery } from '../../pipeline/redis/frame-stream.js';
import { ReplicaGuard } from '../../pipeline/redis/replica-guard.js';
import { ResultPublisher, ResultReader, ViewerCheck } from '../../pipeline/redis/result-stream.js';
import type { ResultStage } from '../../pipeline/stages/result-stage.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import { backendSettings, type EngineProfile } from './backends/index.js';
import { BatchRunner } from './batch-runner.js';
import { Batcher } from './batcher.js';
import { BusyClock } from './busy-clock.js';
import { WorkerHeartbeat } from './heartbeat.js';
import { HeldFrames } from './held-frames.js';
import { OverloadMonitor, type OverloadNumbers } from './overload-monitor.js';
import { Periodic } from './periodic.js';
import { PoseEngine, blankFrame, warmUpBatchSizes, type PoseInference } from './pose-engine.js';
import { AdaptiveEngine } from './adaptive-engine.js';
import { SeqGuard } from './result-builder.js';
import { ResultStages } from './result-stages.js';
import { configuredStages } from './stages.js';
import { StreamDirectory } from '../../pipeline/streams/stream-directory.js';
import { StreamOwnership } from './stream-ownership.js';

export interface WorkerHandle {
  readonly processId: string;
  /** Streams this worker currently owns. */
  readonly streams: string[];
  /** What inference runs on (for logs and benchmark reports). */
  readonly engine: { precision: string; device: string; requests: number; maxBatch: number };
  /** Stops reading, finishes and publishes what is in flight, hands its streams back, closes. */
  stop(): Promise<void>;
}

export interface WorkerOptions {
  logger: Logger;
  processId?: string;
  metrics?: Metrics;
  /** Use this engine instead of compiling config.model (benchmarks share one engine). Not disposed by stop(). */
  engine?: PoseInference;
  /** Result stages in order, instead of those the config asks for (configuredStages). */
  stages?: ResultStage[];
}

/** A blocking read returns after this long without frames, so stop() and new streams are noticed quickly. */
const READ_BLOCK_MS = 100;

/**
 * The inference role, composed of named parts: StreamOwnership (leases, rebalancing, taking over a dead owner's
 * frames), a FollowLoop reading frames through the consumer group, the Batcher (batches across streams, bounded),
 * the BatchRunner (infer, result stages, one commit per batch) and the WorkerHeartbeat. Bounds: at most
 * engine.capacity * batchSize frames are held in this process; reading waits for room, so the rest waits in Redis.
 */
export async function startWorker(config: PosestreamConfig, options: WorkerOptions): Promise<WorkerHandle> {
  const processId = options.processId ?? `${hostname()}-${process.pid}`;
  const logger = options.logger.child({ worker: processId });
  const { batchSize, maxBatchWaitMs, claimIdleMs } = config.worker;
  const leaseMs = claimIdleMs;

  const engine = options.engine ?? (await createEngine(config, { logger, processId, ...(options.metrics ? { metrics: options.metrics } : {}) }));
  logger.info({ model: config.model.path, hint: config.model.hint, device: engine.device, precision: engine.precision, requests: engine.mostRequests ?? engine.requests, batchSize }, 'inference engine ready');

  const redis = createRedis(config.redis, { name: 'worker', logger });
  const readRedis = createRedis(config.redis, { name: 'worker-read', logger });
  const registry = new StreamRegistry(redis, { logger });
  await registry.migrateLegacyLayout();
  const frameConsumer = (connection: typeof redis, idleMs: number) => {
    const consumer = new FrameConsumer(connection, { consumer: processId, claimIdleMs: idleMs });
    consumer.onBadEntry = (streamId, entryId, error) => {
      options.metrics?.framesDropped.inc({ stream_id: streamId, reason: 'corrupt' });
      logger.warn({ streamId, entryId, err: error.message }, 'corrupt frame entry dropped');
    };
    return consumer;
  };
  const reader = frameConsumer(readRedis, claimIdleMs);
  reader.onSuperseded = (streamId, count) => options.metrics?.framesDropped.inc({ stream_id: streamId, reason: 'superseded' }, count);
  // A read that failed may have been applied with its reply lost (a cluster failover): its frames are pending for
  // this worker unseen, so the streams re-sync (their pending frames are claimed before new ones are read).
  reader.onReadFailed = (streamIds) => ownership.resync(streamIds);
  // Redis came back after a lost connection (a restart may have restored an older state, and a blocking read is
  // re-sent rather than failed): every owned stream is taken again from what Redis holds (guard, stages, pending).
  let connected = readRedis.status === 'ready';
  readRedis.on('ready', () => {
    if (connected) ownership.resync(ownership.streams);
    connected = true;
  });

  const guard = new SeqGuard();
  // Stages read per-stream settings (tracking, ...) from the directory's current definitions.
  const directory = new StreamDirectory(registry, logger);
  const stages = new ResultStages(redis, options.stages ?? configuredStages(config, { definitions: directory, logger }));
  const held = new HeldFrames();
  const overload = overloadMonitor(processId, logger, options.metrics);
  const busy = new BusyClock();
  let ownership!: StreamOwnership;
  const runner = new BatchRunner({
    redis,
    engine,
    ack: reader,
    publisher: new ResultPublisher({ retention: config.results.retention, maxAgeSec: config.results.maxAgeSec }),
    viewers: new ViewerCheck(redis),
    confirmOwned: (ids) => ownership.confirm(ids),
    guard,
    stages,
    onCommitFailed: (ids) => ownership.resync(ids),
    replicas: {
      guard: new ReplicaGuard(redis, {
        replicas: config.redis.losslessReplicas,
        timeoutMs: config.redis.replicaWaitMs,
        logger,
        what: 'result commits of lossless streams',
        onShort: () => options.metrics?.redisUnreplicated.inc({ role: 'worker' }),
      }),
      appliesTo: (id) => directory.isLossless(id),
    },
    processId,
    logger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    onPublished: (published) => overload.servedResults(published.filter((r) => r.kind === 'pose' && !directory.isLossless(r.streamId)).length),
  });
  const queuedFull = Math.max(0, engine.capacity - (engine.mostRequests ?? engine.requests));
  const ownsLossless = () => ownership.streams.some((id) => directory.isLossless(id));
  const batcher = new Batcher<FrameDelivery>({
    batchSize,
    maxWaitMs: maxBatchWaitMs,
    // One batch per infer request: whatever is ready leaves at once while a request is free (a lone camera's frame
    // is inferred on arrival), and while all are busy frames gather here into the next, fuller batch. A function: an
    // AdaptiveEngine's requests follow its mode.
    maxInFlight: () => Math.min(engine.requests, engine.capacity),
    // Full batches may also wait in the engine's queue (its native thread starts them the moment a request is free,
    // without a turn of the event loop), counted from the most requests so that calls never exceed engine.capacity.
    // Only while lossless streams are owned: a live frame queued there only gets later, while in Redis a newer frame
    // of its camera replaces it.
    maxQueuedFull: () => (ownsLossless() ? queuedFull : 0),
    streamOf: (d) => d.streamId,
    isInferable: (d) => d.entry.kind === 'frame',
    run: async (batch, inferred) => {
      busy.start();
      try {
        await runner.run(batch, inferred);
      } finally {
        busy.end();
        for (const delivery of batch) held.settle(delivery);
      }
    },
    onError: (error, batch) => logger.error({ err: describeError(error), frames: batch.length }, 'batch not published; its frames will be claimed again'),
  });
  const admit = (deliveries: FrameDelivery[]) => {
    for (const delivery of deliveries) {
      if (!held.take(delivery)) continue;
      if (delivery.entry.kind === 'frame' && !directory.isLossless(delivery.streamId)) overload.offered(delivery.streamId, delivery.entry.meta.seq);
      batcher.add(delivery);
    }
  };

  /**
   * A live stream holds at most its share of what this process may hold: one that always has a frame (a flood, a
   * fast camera) cannot fill the room a slower camera's next frame needs. Lossless streams are read in order anyway.
   */
  const readableWithinShare = (ids: string[]): string[] => {
    const live = ids.filter((id) => !directory.isLossless(id));
    const share = Math.max(1, Math.ceil((batcher.capacity + batcher.size) / Math.max(1, live.length)));
    return ids.filter((id) => directory.isLossless(id) || held.count(id) < share);
  };

  await directory.start();
  const readLoop = new FollowLoop({
    idle: () => ownership.readableStreams().length === 0,
    readOnce: async () => {
      await batcher.whenCapacity();
      const readable = ownership.readableStreams();
      if (readable.length === 0) return;
      const ids = readableWithinShare(readable);
      // Every stream holds its share (cannot last: together they would fill the room): wait for a batch to settle.
      if (ids.length === 0) return void (await new Promise((resolve) => setTimeout(resolve, 5)));
      const room = batcher.capacity;
      const count = Math.max(1, Math.ceil(room / ids.length));
      const deliveries = await reader.read(ids, { count, blockMs: READ_BLOCK_MS, isLive: (id) => !directory.isLossless(id), liveRoom: room });
      admit(deliveries.filter((d) => ownership.accepts(d.streamId)));
    },
    logger,
    what: 'frames',
  });
  ownership = new StreamOwnership({
    redis,
    processId,
    leaseMs,
    wanted: () => directory.ids(),
    heldFrames: (streamId) => held.count(streamId),
    admit,
    // A new owner takes over everything its predecessor left unacknowledged, however recently it was read.
    takeover: frameConsumer(redis, 0),
    staleClaimer: frameConsumer(redis, claimIdleMs),
    results: new ResultReader(redis),
    guard,
    stages,
    logger,
    onReadable: () => readLoop.poke(),
  });
  const heartbeat = new WorkerHeartbeat(redis, {
    processId,
    leaseMs,
    busy,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    status: () => ({ streams: ownership.streams, inFlightBatches: batcher.inFlight, heldFrames: batcher.size, overCapacity: overload.overCapacity }),
  });
  const membership = new Periodic(Math.max(100, Math.floor(leaseMs / 3)), async () => {
    const workersAlive = await heartbeat.beat();
    await ownership.rebalance(workersAlive);
    await heartbeat.publishInfo(workersAlive);
  }, logger, 'stream ownership update failed');
  let sampledAt = performance.now();
  const overloadWindow = new Periodic(OVERLOAD_WINDOW_MS, async () => {
    const now = performance.now();
    overload.sample(now - sampledAt);
    sampledAt = now;
  }, logger, 'overload sampling failed');
  const idleClaims = new Periodic(claimIdleMs, () => ownership.claimIdle(batchSize * 4), logger, 'claiming stale frames failed');
  await membership.start();
  void idleClaims.start();
  void overloadWindow.start();
  readLoop.start();

  let stopping: Promise<void> | undefined;
  return {
    processId,
    get streams() {
      return ownership.streams;
    },
    engine: { precision: engine.precision, device: engine.device, requests: engine.mostRequests ?? engine.requests, maxBatch: engine.maxBatch },
    stop: () =>
      (stopping ??= (async () => {
        await idleClaims.stop();
        await overloadWindow.stop();
        ownership.stopReading();
        readLoop.stop();
        await readLoop.stopped();
        // Leases are still renewed while the last batches publish; only then does ownership stop.
        await batcher.drain();
        await runner.idle();
        await membership.stop();
        directory.stop();
        await ownership.releaseAll().catch(() => undefined);
        await heartbeat.remove().catch(() => undefined);
        if (!options.engine) await engine.dispose();
        readRedis.disconnect();
        await redis.quit().catch(() => redis.disconnect());
        logger.info('worker stopped');
      })()),
  };
}

/** The overload monitor's window: long enough to smooth a batch's burst, short enough to warn within seconds. */
const OVERLOAD_WINDOW_MS = 2_000;

/** The over-capacity gauge plus one warning when an episode starts and one line when it ends, with the numbers. */
function overloadMonitor(processId: string, logger: Logger, metrics: Metrics | undefined): OverloadMonitor {
  const gauge = (value: number) => metrics?.workerOverCapacity.set({ worker: processId }, value);
  gauge(0);
  const round = (numbers: OverloadNumbers) => ({
    offeredFps: Number(numbers.offeredFps.toFixed(1)),
    servedFps: Number(numbers.servedFps.toFixed(1)),
    dropRate: Number(numbers.dropRate.toFixed(3)),
    liveStreams: numbers.streams,
  });
  return new OverloadMonitor({
    onEnter: (numbers) => {
      gauge(1);
      logger.warn(round(numbers), 'over capacity: live streams offer more frames than this worker serves; each stream is served its fair share of the newest frames and the rest are dropped (add workers, lower fps, or a smaller source)');
    },
    onLeave: ({ worstDropRate, ...numbers }) => {
      gauge(0);
      logger.info({ ...round(numbers), worstDropRate: Number(worstDropRate.toFixed(3)) }, 'back within capacity');
    },
  });
}

/**
 * config.model as an engine. model.hint ADAPTIVE compiles it twice (latency: one request; throughput: the runtime's
 * optimal requests or worker.inferRequests) behind an AdaptiveEngine; any other hint compiles it once.
 */
async function createEngine(config: PosestreamConfig, report: { logger: Logger; processId: string; metrics?: Metrics }): Promise<PoseInference> {
  const { model } = config;
  const inputFormat = frameFormatOf(model.inputFormat);
  const compile = (profile: EngineProfile, inferRequests: number | undefined) =>
    PoseEngine.create({
      modelPath: model.path,
      backend: model.backend,
      device: model.device,
      maxBatch: config.worker.batchSize,
      // Ingest fits frames inside the same size (workers/ingest/main.ts), so every frame fits the model's input.
      inputSize: model.inputSize,
      // The format ingest publishes (workers/ingest/main.ts), so frames go to the model as they are.
      inputFormat,
      ...(inferRequests === undefined ? {} : { inferRequests }),
      decode: { confidence: model.confidence, iou: model.iou, maxDetections: model.maxDetections },
      settings: backendSettings(model, profile),
    });
  const { logger, processId, metrics } = report;
  const throughput = await compile('throughput', config.worker.inferRequests);
  const probe = blankFrame(inputFormat, throughput.inputSize);
  const warmUp = async (engine: PoseEngine, profile: EngineProfile) => {
    const started = performance.now();
    await warmUpBatchSizes(engine, probe);
    logger.info({ profile, maxBatch: engine.maxBatch, ms: Math.round(performance.now() - started) }, 'inference warmed up for every batch size');
  };
  await warmUp(throughput, 'throughput');
  if (model.hint !== 'ADAPTIVE') return throughput;
  const latency = await compile('latency', 1);
  await warmUp(latency, 'latency');
  metrics?.workerEngineMode.set({ worker: processId }, 0);
  return AdaptiveEngine.create({
    latency,
    throughput,
    probe,
    onSwitch: (mode, load) => {
      metrics?.workerEngineMode.set({ worker: processId }, mode === 'throughput' ? 1 : 0);
      logger.info({ mode, load: Number(load.toFixed(2)) }, `inference switched to the model compiled for ${mode}`);
    },
  });
}
