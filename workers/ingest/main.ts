import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { RedisClient } from '../../pipeline/redis/client.js';
import type { PosestreamConfig } from '../../config/schema.js';
import { frameFormatOf } from '../../pipeline/image/i420.js';
import { sourceSettings, type StreamConfig } from '../../pipeline/streams/definition.js';
import { describeError } from '../../pipeline/errors.js';
import type { Logger } from '../../pipeline/obs/logger.js';
import type { Metrics } from '../../pipeline/obs/metrics.js';
import { createRedis } from '../../pipeline/redis/client.js';
import { entrySeq, streamEntries } from '../../pipeline/redis/codec.js';
import { FramePublisher, type FramePublisherOptions } from '../../pipeline/redis/frame-stream.js';
import { keys } from '../../pipeline/redis/keys.js';
import { ReplicaGuard } from '../../pipeline/redis/replica-guard.js';
import { ConfigSeed } from '../../pipeline/streams/config-seed.js';
import { OwnerHeartbeat } from '../../pipeline/streams/owner-liveness.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import { createSourceGuard } from '../../pipeline/streams/source-guard.js';
import { StreamAssignment, type RunStream } from './assignment.js';
import { DecoderFrameSource } from './decoder-source.js';
import { PolicyCheckedSource } from './policy-checked-source.js';
import { StreamRunner } from './stream-runner.js';

/** Registry -> jobs again every so often, in case an event was missed while Redis was away. */
const RECONCILE_INTERVAL_MS = 10_000;

/**
 * The ingest role: takes streams from the registry through BullMQ jobs and runs one decoder process per stream
 * (decoder-source.ts), publishing fitted RGB frames to Redis.
 */
export async function startIngest(
  config: PosestreamConfig,
  options: { logger: Logger; processId?: string; metrics?: Metrics },
): Promise<{ stop(): Promise<void> }> {
  const processId = options.processId ?? `ingest-${hostname()}-${process.pid}`;
  const logger = options.logger.child({ processId });
  const { metrics } = options;
  const { maxStreams } = config.ingest;
  const redis = createRedis(config.redis, { name: 'ingest', logger });
  const registry = new StreamRegistry(redis, { logger });
  await registry.migrateLegacyLayout();
  // Seeds the config's streams now and again whenever Redis comes back without its data (config-seed.ts).
  const configSeed = new ConfigSeed(redis, registry, { streams: config.streams, by: processId, logger });
  await configSeed.seed();
  configSeed.start();
  const sourceGuard = createSourceGuard({ policy: config.sourcePolicy, redis: config.redis, gatewayHost: config.gateway.host });

  // Our states name us as owner; readers show them stale/orphaned when this heartbeat stops (owner-liveness.ts).
  const heartbeat = new OwnerHeartbeat(redis, processId, logger);
  await heartbeat.start();

  const running = new Map<string, { runner: StreamRunner; stream: StreamConfig; lost: AbortSignal; done: Promise<unknown> }>();
  let stopping = false;

  const runStream: RunStream = async (streamId, job) => {
    if (stopping) return 'released';
    // This process lost the stream's job (a lock not renewed in time: Redis away, the process stalled) and got it
    // back: the old run is stopping; the new one resumes from the ingest record once it has.
    const previous = running.get(streamId);
    if (previous?.lost.aborted) await previous.done;
    const entry = await registry.entry(streamId);
    const stream = entry?.stream;
    if (!entry || !stream || !stream.enabled || running.has(streamId)) return 'skipped';
    // A job re-added by a reconcile that raced with the stream's end must not play the file again.
    if ((await registry.states()).get(streamId)?.state === 'ended') return 'skipped';
    const streamLogger = logger.child({ streamId });
    const decoderSource = new DecoderFrameSource(stream.url, {
      inputSize: config.model.inputSize,
      format: frameFormatOf(config.model.inputFormat),
      fps: stream.fps,
      mode: stream.mode,
      loop: stream.loop,
      onInfo: (text) => streamLogger.info({ decoder: text }, 'decoder'),
    });
    const runner = new StreamRunner({
      stream,
      // REST streams pass the source policy again before every open; config streams may open anything.
      source: entry.origin === 'api' ? new PolicyCheckedSource(decoderSource, () => sourceGuard.check(stream.url)) : decoderSource,
      sink: new FramePublisher(redis, {
        streamId,
        mode: stream.mode,
        liveQueueLength: config.ingest.liveQueueLength,
        losslessQueueLength: config.ingest.losslessQueueLength,
        owner: processId,
        source: sourceFingerprint(stream),
        // A stream without an ingest record (new, or from before records): after any seq still visible in Redis.
        initialSeq: () => resumeSeq(redis, streamId),
        onStaleDrop: (count) => metrics?.framesDropped.inc({ stream_id: streamId, reason: 'stale' }, count),
        onOomDrop: () => metrics?.framesDropped.inc({ stream_id: streamId, reason: 'redis_oom' }),
        onOom: (refusing, error) => {
          if (refusing) {
            const what = stream.mode === 'live' ? 'live frames are dropped (counted as redis_oom)' : 'the lossless source waits';
            streamLogger.warn({ reason: describeError(error) }, `redis refuses writes (out of memory): ${what} until it accepts them again`);
          } else streamLogger.info('redis accepts frames again');
        },
        onQueueDepth: (depth) => metrics?.queueDepth.set({ stream_id: streamId }, depth),
        ...redisGuards(redis, config, streamLogger, metrics),
      }),
      reportState: (state) => registry.reportState(state),
      owner: processId,
      firstSeq: 0,
      stallTimeoutMs: config.ingest.stallTimeoutSec * 1000,
      backoff: {
        initialMs: config.ingest.backoffInitialMs,
        maxMs: config.ingest.backoffMaxMs,
        healthyAfterMs: Math.max(10_000, config.ingest.backoffMaxMs),
      },
      logger: streamLogger,
      metrics,
    });
    // A lost job may already run elsewhere: stop without reporting `pending` over the new owner's state.
    job.lost.addEventListener('abort', () => runner.stop('released', { report: false }), { once: true });
    streamLogger.info({ url: stream.url, mode: stream.mode, origin: entry.origin }, 'stream started');
    const done = runner.run();
    const entryOfRun = { runner, stream, lost: job.lost, done };
    running.set(streamId, entryOfRun);
    try {
      const outcome = await done;
      streamLogger.info({ outcome }, 'stream finished');
      return outcome;
    } finally {
      if (running.get(streamId) === entryOfRun) running.delete(streamId);
    }
  };

  const jobsRedis = createRedis(config.redis, { name: 'ingest-jobs', logger });
  const assignment = new StreamAssignment({
    queueConnection: redis,
    workerConnection: jobsRedis,
    maxStreams,
    logger,
    runStream,
  });

  const reconcile = async () => {
    const [streams, states] = await Promise.all([registry.list(), registry.states()]);
    for (const stream of streams) {
      if (stream.enabled && states.get(stream.id)?.state !== 'ended') await assignment.ensureJob(stream.id);
    }
  };

  /** Registry event -> the local runner (stop / restart with new settings) and the job (start). */
  const onStreamChanged = async (streamId: string, change: 'added' | 'updated' | 'removed') => {
    const local = running.get(streamId);
    const stream = change === 'removed' ? undefined : await registry.get(streamId);
    if (!stream) return local?.runner.stop('removed');
    if (!stream.enabled) return local?.runner.stop('disabled');
    // New source settings: release the job; it goes back to wait and whoever takes it starts with the new
    // definition. Worker-side settings (tracking, events) leave the source running.
    if (local && JSON.stringify(sourceSettings(local.stream)) !== JSON.stringify(sourceSettings(stream))) local.runner.stop('released');
    await assignment.ensureJob(streamId);
  };

  const unwatch = registry.watch((event) => {
    if (event.kind !== 'stream-changed' || stopping) return;
    onStreamChanged(event.streamId, event.change).catch((error) =>
      logger.warn({ streamId: event.streamId, reason: describeError(error) }, 'could not apply a registry change'),
    );
  });
  const reconcileSafely = () =>
    reconcile().catch((error) => logger.warn({ reason: describeError(error) }, 'could not reconcile streams with jobs'));
  await reconcile();
  const timer = setInterval(reconcileSafely, RECONCILE_INTERVAL_MS);
  logger.info({ maxStreams }, 'ingest started');

  return {
    async stop() {
      if (stopping) return;
      stopping = true;
      configSeed.stop();
      clearInterval(timer);
      unwatch();
      // Stop fetching first, then release the streams: their jobs go back to wait for another ingest process.
      const closing = assignment.close();
      for (const { runner } of running.values()) runner.stop('released');
      await closing;
      await heartbeat.stop();
      await registry.close();
      for (const connection of [jobsRedis, redis]) await connection.quit().catch(() => connection.disconnect());
      logger.info('ingest stopped');
    },
  };
}

/**
 * How a stream's publisher rides through Redis trouble: lossless frames wait for the replicas asked for
 * (redis.losslessReplicas; a shortfall is logged and counted), and a step that failed transiently (a cluster
 * failover) is retried, logged once per spell.
 */
function redisGuards(redis: RedisClient, config: PosestreamConfig, logger: Logger, metrics: Metrics | undefined): Pick<FramePublisherOptions, 'replicas' | 'onRetry'> {
  return {
    replicas: new ReplicaGuard(redis, {
      replicas: config.redis.losslessReplicas,
      timeoutMs: config.redis.replicaWaitMs,
      logger,
      what: 'lossless frames',
      onShort: () => metrics?.redisUnreplicated.inc({ role: 'ingest' }),
    }),
    onRetry: (error, attempt) => {
      if (attempt === 1) logger.warn({ reason: describeError(error) }, 'publishing frames to redis failed; retrying (the source waits)');
    },
  };
}

/** Which source settings an ingest record's position belongs to (hashed: the URL may carry credentials). */
export function sourceFingerprint(stream: StreamConfig): string {
  return createHash('sha256').update(JSON.stringify(sourceSettings(stream))).digest('hex').slice(0, 16);
}

/**
 * Sequence numbers continue across owners and restarts: after the highest seq still visible in the stream's frames
 * or results, so consumers never see a stream's seq go backwards when it moves to another ingest process.
 */
export async function resumeSeq(redis: RedisClient, streamId: string): Promise<number> {
  let last = -1;
  for (const key of [keys.frames(streamId), keys.results(streamId)]) {
    const [newest] = streamEntries(await redis.xrevrange(key, '+', '-', 'COUNT', 1));
    last = Math.max(last, entrySeq(newest?.fields ?? []) ?? -1);
  }
  return last + 1;
}
