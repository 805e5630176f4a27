import calculateSlot from 'cluster-key-slot';
import type { ChainableCommander } from 'ioredis';
import { isCluster, type Cluster, type RedisClient } from './client.js';

/**
 * Commands on keys of many streams, batched as far as the deployment allows. One Redis: one pipeline, one round
 * trip. Redis Cluster: a pipeline may only hold keys served by one node (and each command keys of one slot), so the
 * items are grouped by the node that serves their slot, one pipeline per node, all sent at once. A stale slot map
 * (a failover moved slots) shows as MOVED replies: the map is refreshed then, and the caller's next round goes to
 * the right node.
 */

export type Reply = [Error | null, unknown];

/** The slot a key hashes to (its hash tag's slot): what Redis Cluster routes by. */
export function keySlot(key: string): number {
  return calculateSlot(key);
}

/** Items grouped by the cluster node serving their key's slot, in input order within each group. */
export function groupByNode<T>(cluster: Cluster, items: readonly T[], keyOf: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const nodes = cluster.slots[keySlot(keyOf(item))];
    const node = nodes && nodes.length > 0 ? nodes.join(';') : '?';
    const group = groups.get(node);
    if (group) group.push(item);
    else groups.set(node, [item]);
  }
  return [...groups.values()];
}

/**
 * Runs exactly one command per item (`add` queues it on the pipeline) and returns each item's reply, in item order.
 * Replies carry their own errors (nothing is thrown for a failed command); a transport failure of a whole pipeline
 * becomes that error for each of its items.
 */
export async function execPerNode<T>(
  client: RedisClient,
  items: readonly T[],
  keyOf: (item: T) => string,
  add: (pipeline: ChainableCommander, item: T) => void,
): Promise<Map<T, Reply>> {
  const replies = new Map<T, Reply>();
  if (items.length === 0) return replies;
  if (isCluster(client)) await slotMapLoaded(client);
  const groups = isCluster(client) ? groupByNode(client, items, keyOf) : [[...items]];
  await Promise.all(
    groups.map(async (group) => {
      const pipeline = client.pipeline();
      for (const item of group) add(pipeline, item);
      if (pipeline.length !== group.length) throw new Error(`execPerNode: ${pipeline.length} commands queued for ${group.length} items; queue exactly one per item`);
      let results: Reply[];
      try {
        results = (await pipeline.exec()) ?? [];
      } catch (error) {
        results = group.map(() => [error instanceof Error ? error : new Error(String(error)), null]);
      }
      group.forEach((item, i) => replies.set(item, results[i] ?? [new Error('no reply'), null]));
    }),
  );
  refreshOnMoved(client, [...replies.values()].map(([error]) => error));
  return replies;
}

/** The longest wait for a new cluster client's first slot map before grouping anyway (its commands then fail). */
const SLOT_MAP_WAIT_MS = 5_000;

/** A client that has not loaded the slot map yet (just created, or reconnecting) cannot group by node: wait for it. */
async function slotMapLoaded(cluster: Cluster): Promise<void> {
  if (cluster.slots.length > 0) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, SLOT_MAP_WAIT_MS);
    cluster.once('ready', done);
    function done() {
      clearTimeout(timer);
      cluster.off('ready', done);
      resolve();
    }
  });
}

/** A MOVED reply means the slot map is stale (a failover or resharding): fetch it again now, not at the next timer. */
export function refreshOnMoved(client: RedisClient, errors: ReadonlyArray<Error | null | undefined>): void {
  if (isCluster(client) && errors.some((error) => error?.message.startsWith('MOVED'))) client.refreshSlotsCache();
}

/** The first error among the replies, if any. */
export function firstError(replies: Iterable<Reply>): Error | undefined {
  for (const [error] of replies) if (error) return error;
  return undefined;
}
