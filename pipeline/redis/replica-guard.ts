import type { Logger } from '../obs/logger.js';
import { isCluster, type RedisClient } from './client.js';
import { keySlot } from './per-node.js';
import { ReplicaShortfall, type ReplicaWait } from './transaction.js';

/**
 * Lossless writes wait for replicas (redis.losslessReplicas), but only for replicas that exist. After a failover
 * the promoted master has no replica until the dead node returns (or another replica is attached); a WAIT for one
 * would then cost its whole timeout on every frame and every commit, stalling every lossless stream of the shard.
 * So each master's online replicas are read from INFO replication (cached for REPLICAS_TTL_MS, refreshed in the
 * background: never on the hot path) and a write waits for min(wanted, online). A write confirmed by fewer than
 * wanted, or not waited for at all because none is online, is logged (ReplicaShortfall) and counted: it is lost if
 * its master dies before a replica copies it.
 */

const REPLICAS_TTL_MS = 1_000;

interface Known {
  online: number;
  at: number;
  refreshing: boolean;
}

export class ReplicaGuard {
  private readonly known = new Map<string, Known>();
  private readonly shortfall: ReplicaShortfall;

  constructor(
    private readonly client: RedisClient,
    private readonly options: {
      /** Replicas a lossless write should reach (0 = never wait). */
      replicas: number;
      timeoutMs: number;
      logger: Logger;
      /** What is written, for the log: "lossless frames", "result commits of lossless streams". */
      what: string;
      /** Counts a write that went on with fewer copies than asked. */
      onShort?: () => void;
    },
  ) {
    this.shortfall = new ReplicaShortfall(options.logger, options.what);
  }

  get enabled(): boolean {
    return this.options.replicas > 0;
  }

  /** The WAIT to append to a write of `key`; undefined when nothing can be waited for (see settle). */
  waitFor(key: string): ReplicaWait | undefined {
    if (!this.enabled) return undefined;
    const online = this.online(key);
    const replicas = Math.min(this.options.replicas, online);
    return replicas > 0 ? { replicas, timeoutMs: this.options.timeoutMs } : undefined;
  }

  /** After the write: `replicated` is WAIT's reply, undefined when no WAIT was sent. */
  settle(replicated: number | undefined): void {
    if (!this.enabled) return;
    const copies = replicated ?? 0;
    if (copies >= this.options.replicas) {
      this.shortfall.confirmed();
      return;
    }
    this.shortfall.short(copies, this.options.replicas);
    this.options.onShort?.();
  }

  /** Online replicas of the master serving `key` as last read; before the first reading, assume enough. */
  private online(key: string): number {
    const node = this.nodeOf(key);
    const known = this.known.get(node);
    if (!known || Date.now() - known.at > REPLICAS_TTL_MS) void this.refresh(node);
    return known?.online ?? this.options.replicas;
  }

  private nodeOf(key: string): string {
    return isCluster(this.client) ? (this.client.slots[keySlot(key)]?.[0] ?? '?') : '';
  }

  private async refresh(node: string): Promise<void> {
    const known = this.known.get(node) ?? { online: this.options.replicas, at: 0, refreshing: false };
    if (known.refreshing) return;
    known.refreshing = true;
    this.known.set(node, known);
    try {
      const connection = isCluster(this.client)
        ? this.client.nodes('master').find((candidate) => `${candidate.options.host}:${candidate.options.port}` === node)
        : this.client;
      if (!connection) return;
      known.online = onlineReplicas(String(await connection.info('replication')));
      known.at = Date.now();
    } catch {
      // Unreachable now: keep the last reading; the write itself will fail or wait.
    } finally {
      known.refreshing = false;
    }
  }
}

/** `slaveN:ip=...,port=...,state=online,offset=...,lag=0` lines of INFO replication in state online. */
export function onlineReplicas(info: string): number {
  return info.split(/\r?\n/).filter((line) => /^slave\d+:.*\bstate=online\b/.test(line)).length;
}
