/**
 * The Redis primitives on a real Redis Cluster (scripts/redis-cluster.sh: 3 masters + 3 replicas): per-node
 * pipelines, the multi-stream read path (XREAD / XREADGROUP over streams of several slots and nodes), transactions
 * with WAIT, the frame transport, and what a cluster refuses (a transaction over two streams' keys); then the
 * notifier reading event streams spread over every node and delivering them to a webhook.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, isCluster, type Cluster, type RedisClient } from '../../pipeline/redis/client.js';
import { FrameConsumer, FramePublisher } from '../../pipeline/redis/frame-stream.js';
import { keys } from '../../pipeline/redis/keys.js';
import { execPerNode, groupByNode } from '../../pipeline/redis/per-node.js';
import { ReplicaGuard } from '../../pipeline/redis/replica-guard.js';
import { StreamReads } from '../../pipeline/redis/stream-reads.js';
import { commit, CommitError } from '../../pipeline/redis/transaction.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import type { FrameMeta } from '../../pipeline/wire/v1.js';
import { startNotifier, type NotifierHandle } from '../../workers/notify/main.js';
import { notifyTestConfig, pendingEvents, waitUntil } from '../support/notify.js';
import { poseEvent, writePoseEvent } from '../support/pose-events.js';
import { skipWithoutCluster, TestCluster, testRedisCluster } from '../support/redis-cluster.js';

const logger = pino({ level: 'silent' });
/** Enough streams that every master serves some of them. */
const STREAMS = Array.from({ length: 12 }, (_, i) => `cam-${i}`);

function frame(streamId: string, seq: number): { meta: FrameMeta; pixels: Buffer } {
  const now = Date.now();
  return {
    meta: { v: 1, streamId, seq, captureTs: now, publishTs: now, decodeMs: 0, width: 8, height: 4, sourceWidth: 16, sourceHeight: 8, format: 'rgb24' },
    pixels: Buffer.alloc(8 * 4 * 3, seq),
  };
}

describe.skipIf(skipWithoutCluster())('redis cluster primitives', () => {
  const opened: RedisClient[] = [];
  const open = (name: string) => {
    const client = createRedis({ cluster: testRedisCluster }, { name, logger });
    opened.push(client);
    return client;
  };
  let redis: RedisClient;

  beforeAll(async () => {
    await new TestCluster().flush();
    redis = open('test');
    await redis.ping();
  });

  afterAll(() => {
    for (const client of opened) client.disconnect();
  });

  it('opens a cluster client from redis.cluster, and one pipeline per node serves keys of many slots', async () => {
    expect(isCluster(redis)).toBe(true);
    const groups = groupByNode(redis as Cluster, STREAMS, keys.viewers);
    expect(groups.length).toBe(3);
    const set = await execPerNode(redis, STREAMS, keys.viewers, (pipeline, id) => pipeline.set(keys.viewers(id), id));
    expect([...set.values()].every(([error]) => error === null)).toBe(true);
    const got = await execPerNode(redis, STREAMS, keys.viewers, (pipeline, id) => pipeline.get(keys.viewers(id)));
    expect(STREAMS.map((id) => got.get(id)?.[1])).toEqual(STREAMS);
  });

  it('reads many streams at once: XREAD from ids and from $, in cursor order, with an idle round returning empty', async () => {
    const reads = new StreamReads(open('reads'));
    for (const id of STREAMS) await redis.xadd(keys.results(id), '*', 'r', `${id}:0`);
    const all = await reads.read(STREAMS.map((id) => ({ key: keys.results(id), id: '0-0' })), { count: 10, blockMs: 100 });
    expect(all.failed.size).toBe(0);
    expect(all.batches.map((batch) => batch.key)).toEqual(STREAMS.map((id) => keys.results(id)));
    expect(all.batches.map((batch) => batch.entries[0]!.fields)).toEqual(STREAMS.map((id) => ['r', `${id}:0`]));

    // '$' is pinned to the newest entry when first polled: what is added between rounds is not skipped.
    const fromNow = STREAMS.map((id) => ({ key: keys.results(id), id: '$' }));
    expect((await reads.read(fromNow, { count: 10, blockMs: 50 })).batches.every((batch) => batch.entries.length === 0)).toBe(true);
    await redis.xadd(keys.results('cam-3'), '*', 'r', 'cam-3:1');
    await redis.xadd(keys.results('cam-7'), '*', 'r', 'cam-7:1');
    const added = await reads.read(fromNow, { count: 10, blockMs: 50 });
    expect(added.batches.filter((batch) => batch.entries.length > 0).map((batch) => batch.entries[0]!.fields?.[1])).toEqual(['cam-3:1', 'cam-7:1']);
  });

  it('XREADGROUP per stream: a stream without its group fails alone, the others are delivered', async () => {
    const reads = new StreamReads(open('group-reads'));
    const group = { name: 'g', consumer: 'c1' };
    for (const id of STREAMS) {
      await redis.xadd(keys.poseEvents(id), '*', 'e', id);
      if (id !== 'cam-5') await redis.xgroup('CREATE', keys.poseEvents(id), 'g', '0');
    }
    const cursors = STREAMS.map((id) => ({ key: keys.poseEvents(id), id: '>' }));
    const { batches, failed } = await reads.read(cursors, { count: 5, blockMs: 50, group });
    expect([...failed.keys()]).toEqual([keys.poseEvents('cam-5')]);
    expect(failed.get(keys.poseEvents('cam-5'))!.message).toMatch(/^NOGROUP/);
    expect(batches.map((batch) => batch.entries[0]!.fields?.[1])).toEqual(STREAMS.filter((id) => id !== 'cam-5'));
    // Delivered entries are pending for the consumer: its history ('0') returns them without blocking.
    const history = await reads.read([{ key: keys.poseEvents('cam-0'), id: '0' }], { count: 5, blockMs: 50, group });
    expect(history.batches[0]!.entries).toHaveLength(1);
  });

  it('commits a stream’s writes in one transaction confirmed by a replica (WAIT), and refuses one over two streams', async () => {
    const done = await commit(redis, (tx) => tx.xadd(keys.results('cam-1'), '*', 'r', 'x').hset(keys.stageState('cam-1'), 'tracker', '{}'), { replicas: 1, timeoutMs: 2_000 });
    expect(done.values).toHaveLength(2);
    expect(done.replicated).toBeGreaterThanOrEqual(1);
    await expect(commit(redis, (tx) => tx.xadd(keys.results('cam-1'), '*', 'r', 'x').xadd(keys.results('cam-2'), '*', 'r', 'y'))).rejects.toBeInstanceOf(CommitError);
    expect(await redis.xlen(keys.results('cam-2'))).toBe(1);
  });

  it('moves frames of many streams: lossless publish with WAIT, read across nodes, ack', async () => {
    const ids = STREAMS.slice(0, 6);
    let short = 0;
    const replicas = new ReplicaGuard(redis, { replicas: 1, timeoutMs: 2_000, logger, what: 'test frames', onShort: () => (short += 1) });
    for (const id of ids) {
      const publisher = new FramePublisher(redis, { streamId: id, mode: 'lossless', liveQueueLength: 4, losslessQueueLength: 32, replicas });
      for (let seq = 0; seq < 3; seq += 1) await publisher.publish(frame(id, seq).meta, frame(id, seq).pixels);
    }
    expect(short).toBe(0);
    const consumer = new FrameConsumer(open('frames'), { consumer: 'w1', claimIdleMs: 1_000 });
    const deliveries = await consumer.read(ids, { count: 10, blockMs: 50 });
    expect(deliveries.map((d) => `${d.streamId}#${d.entry.kind === 'frame' ? d.entry.meta.seq : -1}`)).toEqual(ids.flatMap((id) => [0, 1, 2].map((seq) => `${id}#${seq}`)));
    for (const id of ids) {
      await commit(redis, (tx) => deliveries.filter((d) => d.streamId === id).forEach((d) => consumer.ackInto(tx, d)));
      expect(await redis.xlen(keys.frames(id))).toBe(0);
    }
  });

  it('reads live streams newest first across nodes (take-newest per stream), in-order streams in order', async () => {
    const live = STREAMS.slice(6, 9);
    const ordered = STREAMS.slice(9, 11);
    for (const id of [...live, ...ordered]) {
      const publisher = new FramePublisher(redis, { streamId: id, mode: live.includes(id) ? 'live' : 'lossless', liveQueueLength: 4, losslessQueueLength: 32 });
      for (let seq = 0; seq < 3; seq += 1) await publisher.publish(frame(id, seq).meta, frame(id, seq).pixels);
    }
    const consumer = new FrameConsumer(open('frames-live'), { consumer: 'w1', claimIdleMs: 1_000 });
    let superseded = 0;
    consumer.onSuperseded = (_id, count) => (superseded += count);
    const deliveries = await consumer.read([...live, ...ordered], { count: 10, blockMs: 50, isLive: (id) => live.includes(id) });
    const got = deliveries.map((d) => `${d.streamId}#${d.entry.kind === 'frame' ? d.entry.meta.seq : -1}`).sort();
    expect(got).toEqual([...live.map((id) => `${id}#2`), ...ordered.flatMap((id) => [0, 1, 2].map((seq) => `${id}#${seq}`))].sort());
    expect(superseded).toBe(2 * live.length);
    for (const id of live) expect(await redis.xlen(keys.frames(id))).toBe(1);
  });
});

describe.skipIf(skipWithoutCluster())('notifier on a redis cluster', () => {
  const streams = STREAMS.slice(0, 6);
  const received: string[] = [];
  let server: Server;
  let notifier: NotifierHandle | undefined;
  let redis: RedisClient;

  beforeAll(async () => {
    await new TestCluster().flush();
    redis = createRedis({ cluster: testRedisCluster }, { name: 'test', logger });
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push((JSON.parse(Buffer.concat(chunks).toString()) as { id: string }).id);
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const registry = new StreamRegistry(redis);
    for (const id of streams) await registry.add({ id, url: 'test://ball' });
    const config = notifyTestConfig({ cluster: testRedisCluster }, { webhooks: [{ name: 'all', url: `http://127.0.0.1:${port}/hook`, secret: 'whsec-cluster-0123' }] });
    notifier = await startNotifier(config, { logger, consumer: 'cluster-test', blockMs: 200 });
  });

  afterAll(async () => {
    await notifier?.stop();
    server?.close();
    redis?.disconnect();
  });

  it('delivers each stream’s events once and acknowledges them, whichever node holds the stream', async () => {
    // The groups are created 60 s back, so events written right after the registration are delivered.
    await waitUntil(async () => (await Promise.all(streams.map((id) => redis.exists(keys.poseEvents(id))))).every((n) => n === 1), 15_000);
    const events = streams.map((streamId, i) => poseEvent({ streamId, type: 'fall', seq: 100 + i }));
    for (const event of events) await writePoseEvent(redis, event);
    await waitUntil(() => received.length >= events.length, 20_000);
    expect([...received].sort()).toEqual(events.map((e) => e.id).sort());
    await waitUntil(async () => (await Promise.all(streams.map((id) => pendingEvents(redis, id, 'webhook')))).every((n) => n === 0), 10_000);
  });
});
