import type { AddressInfo } from 'node:net';
import { exposedWithoutToken, unauthenticatedExposure, type PosestreamConfig } from '../config/schema.js';
import { PosestreamError } from '../pipeline/errors.js';
import type { Logger } from '../pipeline/obs/logger.js';
import { createMetrics, type Metrics } from '../pipeline/obs/metrics.js';
import { createRedis } from '../pipeline/redis/client.js';
import type { ResultEntry } from '../pipeline/redis/codec.js';
import { PoseEventReader } from '../pipeline/redis/event-stream.js';
import { ResultReader } from '../pipeline/redis/result-stream.js';
import { ConfigSeed } from '../pipeline/streams/config-seed.js';
import { ownerHeartbeats } from '../pipeline/streams/owner-liveness.js';
import { StreamRegistry } from '../pipeline/streams/registry.js';
import { WIRE_VERSION } from '../pipeline/wire/v1.js';
import { createSourceGuard } from '../pipeline/streams/source-guard.js';
import { disableEncoderCache } from './annotate.js';
import { HttpFrameViewers } from './http-frame-viewers.js';
import { PreviewFollower, type PreviewInterest } from './preview-follower.js';
import { RedisSampler } from './redis-sampler.js';
import { PipelineFollower } from './pipeline-follower.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { mjpegRoutes } from './routes/mjpeg.js';
import { streamRoutes } from './routes/streams.js';
import { createGatewayServer } from './server.js';
import { StreamCatalog } from './stream-catalog.js';
import { StreamStats } from './stream-stats.js';
import { Hub } from './ws/hub.js';

/**
 * The gateway role: HTTP + WebSocket in front of Redis. Four Redis connections (cluster clients on Redis Cluster):
 * one for commands, one for the results and events follow loop, one for the preview loop (on one Redis both block,
 * and blocking reads cannot share a connection), and one for REST that fails fast (REST_REDIS_TIMEOUT_MS) so that a
 * Redis outage is a prompt 503, never a request that hangs and is applied later.
 */

export interface GatewayOptions {
  logger: Logger;
  metrics?: Metrics;
  /** WebSocket ping interval; a client that misses one is closed at the next. Default 15 s. */
  heartbeatMs?: number;
  /**
   * Count results, persons and the worker-side stage durations (decode, queue, infer, post) from the results stream
   * (default true: one scrape of the gateway covers the pipeline). Pass false when `metrics` is shared with an
   * inference worker in the same process, which counts those itself; the gateway then adds only its own stages.
   */
  observePipelineResults?: boolean;
  /** Overrides config.gateway.port (0 = any free port; tests use it). */
  port?: number;
  host?: string;
}

export interface RunningGateway {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export const DEFAULT_HEARTBEAT_MS = 15_000;
/** A REST call answers within about this long (503 PS_REDIS_UNAVAILABLE) when Redis does not. */
export const REST_REDIS_TIMEOUT_MS = 2_000;
export const SERVER_NAME = 'posestream-gateway/1';

export async function startGateway(config: PosestreamConfig, options: GatewayOptions): Promise<RunningGateway> {
  const logger = options.logger.child({ component: 'gateway' });
  const host = options.host ?? config.gateway.host;
  // The config refuses this already; a host passed in code gets the same rule.
  const exposure = unauthenticatedExposure({ ...config.gateway, host });
  if (exposure) throw new PosestreamError('PS_CONFIG_INVALID', `gateway.host: ${exposure}`);
  disableEncoderCache();
  const metrics = options.metrics ?? createMetrics();
  const redis = createRedis(config.redis, { name: 'gateway', logger });
  const resultsConnection = createRedis(config.redis, { name: 'gateway-results', logger });
  const previewConnection = createRedis(config.redis, { name: 'gateway-preview', logger });
  const registry = new StreamRegistry(redis, { logger });
  await registry.migrateLegacyLayout();
  const configSeed = new ConfigSeed(redis, registry, { streams: config.streams, by: `gateway-${process.pid}`, logger });
  await configSeed.seed();
  configSeed.start();
  const restRedis = createRedis(config.redis, { name: 'gateway-rest', logger, failFastMs: REST_REDIS_TIMEOUT_MS });
  const restRegistry = new StreamRegistry(restRedis, { logger });
  const sourceGuard = createSourceGuard({ policy: config.sourcePolicy, redis: config.redis, gatewayHost: host });
  // Redis just answered the seed: give the REST connection a moment to be ready before the first request can come.
  await readyWithin(restRedis, REST_REDIS_TIMEOUT_MS);

  const stats = new StreamStats();
  const observePipeline = options.observePipelineResults ?? true;
  const replayReader = new ResultReader(redis);
  const eventReader = new PoseEventReader(redis);
  let catalog: StreamCatalog | undefined;
  const known = () => catalog?.ids() ?? [];

  let previews: PreviewFollower | undefined;
  let follower: PipelineFollower | undefined;
  const frameInterestChanged = () => previews?.interestChanged();
  const hub = new Hub({
    logger,
    metrics,
    clientQueueLimit: config.gateway.clientQueueLimit,
    heartbeatMs: options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
    serverName: SERVER_NAME,
    knownStreams: known,
    currentStates: async () => catalog?.states() ?? [],
    replay: async (channel, streamId, afterId, count) =>
      channel === 'results'
        ? (await replayReader.replay(streamId, { afterId, count })).map((entry) => ({ entryId: entry.entryId, message: { v: WIRE_VERSION, type: 'result', result: entry.result } }))
        : (await eventReader.replay(streamId, { afterId, count })).map((entry) => ({ entryId: entry.entryId, message: { v: WIRE_VERSION, type: 'event', event: entry.event } })),
    endOfStream: async (streamId) => {
      const newest = await replayReader.newest(streamId);
      return newest?.result.kind === 'eos' ? { entryId: newest.entryId, message: { v: WIRE_VERSION, type: 'result', result: newest.result } } : undefined;
    },
    onFrameInterestChanged: frameInterestChanged,
    liveCursors: (streamId) => follower?.position(streamId),
  });
  const viewers = new HttpFrameViewers(frameInterestChanged);
  previews = new PreviewFollower(redis, previewConnection, {
    logger,
    jpegQuality: config.gateway.jpegQuality,
    interest: () => mergeInterest(hub.frameInterest(), viewers.watchedStreams()),
    demand: (streamId) => {
      const demand = hub.frameDemand(streamId);
      if (viewers.watchedStreams().includes(streamId)) demand.annotated = true;
      return demand;
    },
    onFrame: (streamId, meta, rendered) => {
      hub.publishFrames(streamId, { plain: rendered.plain?.message, annotated: rendered.annotated?.message });
      if (meta && rendered.annotated) viewers.publish(streamId, rendered.annotated.jpeg, meta.seq);
    },
  });

  // `commands` lets a new stream interrupt the follower's blocking read (CLIENT UNBLOCK on one Redis).
  follower = new PipelineFollower(resultsConnection, {
    logger,
    commands: redis,
    tailIds: async (streamId) => ({ results: await replayReader.tailId(streamId), events: await eventReader.tailId(streamId) }),
    onResults: (streamId, entries) => {
      const now = Date.now();
      for (const entry of entries) observeResult(metrics, stats, entry, now, observePipeline);
      for (const entry of entries) hub.publishResult(streamId, entry);
    },
    onEvents: (streamId, entries) => {
      for (const entry of entries) hub.publishEvent(streamId, entry);
    },
    onBadEntry: (streamId, kind, entryId, error) => logger.warn({ streamId, entryId, err: error }, `skipping undecodable ${kind === 'results' ? 'result' : 'event'}`),
  });

  catalog = new StreamCatalog(registry, {
    logger,
    ownerBeats: () => ownerHeartbeats(redis),
    onStreamsChanged: (ids) => {
      follower.setStreams(ids).catch((error: unknown) => logger.warn({ err: error }, 'following new result streams failed'));
      frameInterestChanged();
    },
    onState: (state) => {
      metrics.streamUp.set({ stream_id: state.streamId }, state.state === 'running' ? 1 : 0);
      hub.publishState(state);
    },
  });
  await catalog.start();
  await follower.setStreams(catalog.ids());
  follower.start();
  previews.start();
  const sampler = new RedisSampler(redis, { metrics, logger, streams: known });
  sampler.start();

  const server = createGatewayServer({
    routes: [
      ...healthRoutes({ redis: restRedis, registry: restRegistry }),
      ...metricsRoutes({ metrics }),
      ...streamRoutes({ registry: restRegistry, catalog, stats, checkSource: sourceGuard.check }),
      ...mjpegRoutes({ catalog, viewers, metrics }),
      ...eventRoutes({ catalog, events: new PoseEventReader(restRedis) }),
      ...(await dashboardRoutes()),
    ],
    hub,
    token: config.gateway.token,
    allowedOrigins: config.gateway.allowedOrigins,
    logger,
    metrics,
    redisTimeoutMs: REST_REDIS_TIMEOUT_MS,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? config.gateway.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`;
  logger.info({ url, streams: catalog.ids().length }, 'gateway listening');
  if (exposedWithoutToken({ ...config.gateway, host })) {
    logger.warn(
      { host, port, setting: 'gateway.allowUnauthenticated' },
      `gateway listening on ${host}:${port} WITHOUT AUTHENTICATION (gateway.allowUnauthenticated: true): anyone who can reach this port can watch every camera and add, change or remove streams. Set gateway.token to require a token`,
    );
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await hub.close();
      configSeed.stop();
      catalog!.stop();
      sampler.stop();
      await follower.stop();
      previews!.stop();
      resultsConnection.disconnect();
      previewConnection.disconnect();
      await Promise.allSettled([follower.stopped(), previews!.stopped()]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await registry.close();
      redis.disconnect();
      restRedis.disconnect();
      logger.info('gateway stopped');
    })());
  return { url, port, stop };
}

function readyWithin(connection: { status: string; once(event: 'ready', listener: () => void): unknown }, ms: number): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    connection.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function mergeInterest(fromClients: Map<string, PreviewInterest>, httpViewers: string[]): Map<string, PreviewInterest> {
  for (const id of httpViewers) {
    const entry = fromClients.get(id) ?? { annotated: false, plain: false };
    entry.annotated = true;
    fromClients.set(id, entry);
  }
  return fromClients;
}

/** Every result passing through feeds the pipeline-wide metrics, whoever watches. */
function observeResult(metrics: Metrics, stats: StreamStats, entry: ResultEntry, now: number, pipeline: boolean): void {
  const { result } = entry;
  const gap = stats.record(result, now);
  if (result.kind !== 'pose') return;
  const labels = { stream_id: result.streamId };
  const stage = (name: string, ms: number) => metrics.stageDuration.observe({ ...labels, stage: name }, Math.max(0, ms) / 1000);
  // Frames that never produced a result, whatever the cause (stale, lost, worker crash): the end-to-end view.
  if (gap > 0) metrics.framesDropped.inc({ ...labels, reason: 'no_result' }, gap);
  if (pipeline) {
    metrics.results.inc(labels);
    if (result.persons.length > 0) metrics.persons.inc(labels, result.persons.length);
    stage('decode', result.timings.decodeMs);
    stage('queue', result.timings.queueMs);
    stage('infer', result.timings.inferMs);
    stage('post', result.timings.postMs);
  }
  stage('gateway', now - result.publishedTs);
  stage('total', now - result.captureTs);
}
