import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from '../obs/logger.js';
import { redactUrl } from '../obs/redact.js';
import { processRedisHealth } from './health.js';

export type { Cluster, Redis };

/** A connection to one Redis or to a Redis Cluster: the one type every role and command takes. */
export type RedisClient = Redis | Cluster;

/** Where Redis is: one instance (`url`, the default) or a cluster's start-up nodes (`cluster`). Config `redis:`. */
export interface RedisTarget {
  readonly url?: string | undefined;
  readonly cluster?: readonly string[] | undefined;
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Reconnect delays grow from 100 ms to this cap, so an outage costs a few connection attempts per minute at most. */
export const REDIS_RETRY_MAX_MS = 5_000;

/** A cluster client re-reads the slot map this often, so it follows a failover even on a quiet connection. */
export const CLUSTER_SLOTS_REFRESH_MS = 2_000;

/** While a cluster node is failing, reachability is re-checked this often (for the one "reachable again" line). */
const CLUSTER_RECOVERY_CHECK_MS = 1_000;

/** Delay before reconnect attempt `attempt` (1-based): doubling from 100 ms, capped. */
export function redisRetryDelay(attempt: number): number {
  return Math.min(REDIS_RETRY_MAX_MS, 100 * 2 ** Math.min(attempt - 1, 16));
}

export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/** The URLs a target names (the instance, or every start-up node). */
export function redisTargetUrls(target: RedisTarget | string): string[] {
  if (typeof target === 'string') return [target];
  return target.cluster && target.cluster.length > 0 ? [...target.cluster] : [target.url ?? DEFAULT_REDIS_URL];
}

/** For logs and messages: `redis://h:6379` or `cluster redis://a:7000, redis://b:7000`, passwords masked. */
export function describeRedisTarget(target: RedisTarget | string): string {
  const urls = redisTargetUrls(target).map(redactUrl);
  return typeof target !== 'string' && target.cluster?.length ? `cluster ${urls.join(', ')}` : urls[0]!;
}

/**
 * For callers that must answer promptly and may not act later (the gateway's REST commands): a command fails at
 * once while the connection is down instead of waiting in the offline queue, one that was sent but not answered
 * fails when the connection drops (never re-sent after a reconnect) or after `ms`. Reconnecting still happens.
 */
function failFast(ms: number) {
  return { enableOfflineQueue: false, autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 0, commandTimeout: ms };
}

export interface CreateRedisOptions {
  name: string;
  logger: Logger;
  failFastMs?: number;
}

/**
 * The one way posestream opens Redis, one instance or a cluster. An outage is logged once when it starts ("redis at
 * URL unreachable: ECONNREFUSED; retrying") and once when it ends, however many attempts it takes: a down Redis
 * must neither crash-loop the process nor flood the log. `failFastMs` opts out of waiting (see failFast).
 *
 * One instance: commands wait for a reconnect instead of failing (maxRetriesPerRequest null, which BullMQ also
 * requires); reconnects back off to REDIS_RETRY_MAX_MS.
 *
 * Cluster: commands wait while no node answers at all (offline queue, reconnect with the same back-off), and follow
 * MOVED/ASK/TRYAGAIN/CLUSTERDOWN redirections (nothing was executed then). What a cluster client never does here is
 * re-send a command whose connection closed before the reply (retryDelayOnFailover 0): during a failover that
 * command may have been applied and replicated, and a blind re-send would publish a result twice or lose the reply
 * of an XREADGROUP. It fails instead; the callers retry what is idempotent and re-sync the rest from what Redis
 * holds (ARCHITECTURE.md, "Redis Cluster").
 */
export function createRedis(target: RedisTarget | string, options: CreateRedisOptions): RedisClient {
  const urls = redisTargetUrls(target);
  const clustered = typeof target !== 'string' && (target.cluster?.length ?? 0) > 0;
  return clustered ? createCluster(urls, options) : createSingle(urls[0]!, options);
}

function createSingle(url: string, options: CreateRedisOptions): Redis {
  const safeUrl = redactUrl(url);
  const log = options.logger.child({ redis: options.name });
  const redis = new Redis(url, {
    connectionName: `posestream:${options.name}`,
    ...(options.failFastMs === undefined ? { maxRetriesPerRequest: null } : failFast(options.failFastMs)),
    retryStrategy: redisRetryDelay,
    // A replica promoted/demoted under us answers READONLY: reconnecting finds the new primary.
    reconnectOnError: (error) => error.message.startsWith('READONLY'),
  });
  log.debug({ url: safeUrl }, 'redis connection opened');
  processRedisHealth.configure(options.logger, `redis at ${safeUrl}`);
  reportHealth(redis, options.name);
  return redis;
}

/** Start-up nodes and the options they share: credentials and TLS come from the URLs (the first that has them). */
function clusterStartup(urls: string[]): { nodes: Array<{ host: string; port: number }>; redisOptions: RedisOptions } {
  const parsed = urls.map((url) => new URL(url));
  const withAuth = parsed.find((url) => url.username !== '' || url.password !== '');
  return {
    nodes: parsed.map((url) => ({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 6379) })),
    redisOptions: {
      ...(withAuth?.username ? { username: decodeURIComponent(withAuth.username) } : {}),
      ...(withAuth?.password ? { password: decodeURIComponent(withAuth.password) } : {}),
      ...(parsed.some((url) => url.protocol === 'rediss:') ? { tls: {} } : {}),
    },
  };
}

function createCluster(urls: string[], options: CreateRedisOptions): Cluster {
  const safeUrls = urls.map(redactUrl);
  const log = options.logger.child({ redis: options.name });
  const { nodes, redisOptions } = clusterStartup(urls);
  const fast = options.failFastMs === undefined ? undefined : failFast(options.failFastMs);
  const clusterOptions: ClusterOptions = {
    clusterRetryStrategy: redisRetryDelay,
    retryDelayOnFailover: 0,
    slotsRefreshInterval: CLUSTER_SLOTS_REFRESH_MS,
    enableOfflineQueue: fast ? false : true,
    redisOptions: {
      ...redisOptions,
      connectionName: `posestream:${options.name}`,
      ...(fast ? { maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, commandTimeout: fast.commandTimeout } : { maxRetriesPerRequest: null }),
    },
  };
  const cluster = new Cluster(nodes, clusterOptions);
  processRedisHealth.configure(options.logger, `redis cluster (${safeUrls.join(', ')})`);
  const outage = new ClusterOutage(connectionId(options.name));
  log.debug({ cluster: safeUrls }, 'redis cluster connection opened');
  cluster.on('end', () => processRedisHealth.connectionClosed(outage.connection));
  cluster.on('error', (error: NodeJS.ErrnoException) => outage.down(error));
  cluster.on('node error', (error: NodeJS.ErrnoException, node: string) => outage.down(error, node));
  // A node failing is over when every master in the (refreshed) slot map answers again: after a failover the dead
  // master is no longer in it, after a restart it is back. ioredis has no event for that, so it is polled.
  outage.whileDown(
    CLUSTER_RECOVERY_CHECK_MS,
    () => cluster.status === 'ready' && cluster.nodes('master').every((node) => node.status === 'ready'),
    () => new Set(cluster.nodes('master').map((node) => `${node.options.host}:${node.options.port}`)),
  );
  return cluster;
}

let connectionCount = 0;
/** A unique name per connection for RedisHealth (several connections share a role name). */
function connectionId(name: string): string {
  connectionCount += 1;
  return `${name}#${connectionCount}`;
}

/** Feeds one single-instance connection's events to the process's RedisHealth (which logs the outage once). */
function reportHealth(redis: Redis, name: string): void {
  const id = connectionId(name);
  redis.on('error', (error: Error) => processRedisHealth.connectionFailed(id, error));
  redis.on('ready', () => processRedisHealth.connectionReady(id));
  redis.on('end', () => processRedisHealth.connectionClosed(id));
}

/**
 * A cluster client's failures for RedisHealth. For a cluster "down" means any node failing; the end is found by
 * polling `healthy` (no error seen for a whole check interval and the predicate true).
 */
class ClusterOutage {
  private isDown = false;
  /** When each node (by "host:port"; '' for the cluster client itself) last reported an error. */
  private readonly lastErrorAt = new Map<string, number>();
  private check: { everyMs: number; healthy: () => boolean; masters: () => Set<string> } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly connection: string) {}

  whileDown(everyMs: number, healthy: () => boolean, masters: () => Set<string>): void {
    this.check = { everyMs, healthy, masters };
  }

  down(error: NodeJS.ErrnoException, node?: string): void {
    this.lastErrorAt.set(node ?? '', Date.now());
    if (this.isDown) return;
    this.isDown = true;
    processRedisHealth.connectionFailed(this.connection, node ? new Error(`node ${node}: ${error.code ?? error.message}`) : error);
    if (this.check) this.poll(this.check);
  }

  up(): void {
    if (!this.isDown) return;
    this.isDown = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.lastErrorAt.clear();
    processRedisHealth.connectionReady(this.connection);
  }

  /**
   * Quiet for a whole interval: no error from the cluster client or from a node that serves slots now. A master
   * killed and failed over keeps erroring while ioredis retries it (until it is back as a replica, or for good):
   * it no longer serves anything, so it does not keep the outage open.
   */
  private quietSince(everyMs: number, masters: Set<string>): boolean {
    const now = Date.now();
    for (const [node, at] of this.lastErrorAt) {
      if ((node === '' || masters.has(node)) && now - at < everyMs) return false;
    }
    return true;
  }

  private poll(check: { everyMs: number; healthy: () => boolean; masters: () => Set<string> }): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.isDown) return;
      if (check.healthy() && this.quietSince(check.everyMs, check.masters())) this.up();
      else this.poll(check);
    }, check.everyMs);
    this.timer.unref();
  }
}

/**
 * Another connection with the same settings (for a blocking read that must not hold up other commands). Its errors
 * feed the process's RedisHealth like the original's (one outage, logged once); a cluster duplicate's are the
 * original's outage, only kept from surfacing as unhandled events.
 */
export function duplicateClient(client: RedisClient): RedisClient {
  if (isCluster(client)) {
    const duplicate = client.duplicate();
    duplicate.on('error', () => undefined);
    return duplicate;
  }
  const duplicate = client.duplicate();
  reportHealth(duplicate, `${client.options.connectionName ?? 'redis'}-duplicate`);
  return duplicate;
}
