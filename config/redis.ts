import { z } from 'zod';
import { DEFAULT_REDIS_URL } from '../pipeline/redis/client.js';

/**
 * `redis:`: one Redis (`url`, the default and the demo) or a Redis Cluster (`cluster`: some of its nodes; the
 * client discovers the others and follows failovers). Exactly one of the two; an environment override of one
 * (POSESTREAM_REDIS_URL, POSESTREAM_REDIS_CLUSTER as a comma-separated list) replaces the other.
 */

const clusterNode = z
  .string()
  .url()
  .refine((url) => /^rediss?:\/\//.test(url), { message: 'a cluster node is redis://host:port or rediss://host:port' })
  .refine((url) => ['', '/', '/0'].includes(new URL(url).pathname), { message: 'a cluster node URL names no database: Redis Cluster has only database 0' });

export const redisSchema = z
  .object({
    /** One Redis, e.g. redis://127.0.0.1:6379/0 (the default when `cluster` is not given). */
    url: z.string().url().optional(),
    /** Redis Cluster start-up nodes, e.g. [redis://10.0.0.1:7000, redis://10.0.0.2:7000]. */
    cluster: z.array(clusterNode).min(1).optional(),
    /**
     * Lossless streams: a published frame and a worker's commit of results count as done once this many replicas
     * have them (WAIT), so the failure of a master cannot lose them. Default 1 with `cluster`, 0 with `url`.
     */
    losslessReplicas: z.number().int().min(0).max(16).optional(),
    /** The longest such wait; after it the frame or commit goes on with fewer copies, logged and counted. */
    replicaWaitMs: z.number().int().min(10).max(60_000).default(1_000),
  })
  .strict();

export type RedisConfigInput = z.infer<typeof redisSchema>;

/** The redis section once defaults are settled: `url` only for one Redis, `cluster` only for a cluster. */
export interface RedisConfig {
  url?: string;
  cluster?: string[];
  losslessReplicas: number;
  replicaWaitMs: number;
}

export const REDIS_URL_OR_CLUSTER = 'give redis.url (one Redis) or redis.cluster (Redis Cluster nodes), not both';

export function resolveRedisConfig(input: RedisConfigInput): RedisConfig {
  const clustered = input.cluster !== undefined;
  return {
    ...(clustered ? { cluster: input.cluster } : { url: input.url ?? DEFAULT_REDIS_URL }),
    losslessReplicas: input.losslessReplicas ?? (clustered ? 1 : 0),
    replicaWaitMs: input.replicaWaitMs,
  };
}
