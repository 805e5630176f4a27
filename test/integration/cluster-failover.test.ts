/**
 * posestream on a real Redis Cluster (3 masters + 3 replicas, scripts/redis-cluster.sh) while masters die: the
 * master serving a stream's slot is killed with kill -9 and its replica promoted.
 *  - lossless: the walking clip (144 frames) still gives 144 results, exactly once and in order, then its
 *    end-of-stream, and leaves no frame behind;
 *  - live: a live stream on the master that also holds the registry ({_global}) resumes once the failover is done,
 *    a WebSocket client keeps receiving its results and frames, and the registry, the stream states and the
 *    gateway's readiness survive.
 * Each test brings the killed node back (it rejoins as a replica), so the cluster is 3 + 3 again afterwards.
 * Timings are printed: kill, failover done (the slot served again), first result after the kill.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/main.js';
import { defaultModelPaths } from '../../pipeline/assets.js';
import { createRedis, type RedisClient } from '../../pipeline/redis/client.js';
import { FRAME_CONSUMER_GROUP, keys } from '../../pipeline/redis/keys.js';
import { ResultReader } from '../../pipeline/redis/result-stream.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import type { StreamResult } from '../../pipeline/wire/v1.js';
import { startWorker } from '../../workers/inference/main.js';
import { startIngest } from '../../workers/ingest/main.js';
import { assetPath, skipWithout } from '../support/assets.js';
import { GatewayTestClient } from '../support/gateway-client.js';
import { skipWithoutCluster, TestCluster, testRedisCluster } from '../support/redis-cluster.js';
import { waitUntil } from '../support/wait.js';
import { collectResults, endedWithEos, poseSeqs, quietLogger, writeTestConfig } from './pipeline-support.js';

const FRAMES = 144;
const skip = skipWithoutCluster() || skipWithout('walkingVideo') || !existsSync(defaultModelPaths.fp32);

/** Every result retained in the stream, oldest first (what survived, whatever a reader saw meanwhile). */
async function retainedResults(redis: RedisClient, streamId: string): Promise<StreamResult[]> {
  const reader = new ResultReader(redis);
  const all: StreamResult[] = [];
  for (let afterId: string | undefined; ; ) {
    const page = await reader.replay(streamId, afterId ? { afterId, count: 500 } : { count: 500 });
    all.push(...page.map((entry) => entry.result));
    if (page.length < 500) return all;
    afterId = page.at(-1)!.entryId;
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

describe.skipIf(skip)('redis cluster failover', () => {
  const cluster = new TestCluster();
  const logger = quietLogger();
  const redisConfig = { cluster: testRedisCluster, replicaWaitMs: 1_000 };
  let redis: RedisClient;

  beforeAll(async () => {
    await cluster.restore();
    await cluster.flush();
    redis = createRedis({ cluster: testRedisCluster }, { name: 'test', logger });
  });

  afterAll(async () => {
    redis?.disconnect();
    await cluster.restore();
  });

  describe('lossless: kill -9 the master of the stream mid-run', () => {
    const { config } = writeTestConfig(0, [{ id: 'walking', url: assetPath('walkingVideo'), mode: 'lossless' }], { redis: redisConfig });
    const stops: Array<() => Promise<void>> = [];
    const seen: StreamResult[] = [];
    let killedAt = 0;
    let failoverAt = 0;
    let resumedAt = 0;
    let victim = 0;

    beforeAll(async () => {
      victim = await cluster.masterOf(keys.frames('walking'));
      const worker = await startWorker(config, { logger });
      stops.push(() => worker.stop());
      const ingest = await startIngest(config, { logger });
      stops.push(() => ingest.stop());
      let failover: Promise<void> | undefined;
      const collected = await collectResults(
        { cluster: testRedisCluster },
        ['walking'],
        (r) => endedWithEos(r.get('walking')),
        120_000,
        (r) => {
          const list = r.get('walking')!;
          if (killedAt > 0 && resumedAt === 0 && list.length > seen.length) resumedAt = Date.now();
          seen.splice(0, seen.length, ...list);
          if (killedAt === 0 && poseSeqs(list).length >= 40) {
            killedAt = Date.now();
            failover = cluster
              .kill(victim)
              .then(() => cluster.waitForFailover(keys.frames('walking'), victim))
              .then(() => void (failoverAt = Date.now()));
          }
        },
      );
      await failover;
      seen.splice(0, seen.length, ...collected.get('walking')!);
      console.log(
        `[cluster-failover] lossless: killed master :${victim} after ${poseSeqs(seen).filter((s) => s < 40).length} results; ` +
          `failover done after ${seconds(failoverAt - killedAt)}; first result after the kill at +${seconds(resumedAt - killedAt)}`,
      );
    }, 180_000);

    afterAll(async () => {
      for (const stop of stops.reverse()) await stop();
    });

    it('publishes 144/144 results exactly once and in order, then the end-of-stream', async () => {
      expect(killedAt).toBeGreaterThan(0);
      expect(failoverAt).toBeGreaterThan(killedAt);
      const retained = await retainedResults(redis, 'walking');
      expect(poseSeqs(retained)).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
      expect(retained.at(-1)).toMatchObject({ kind: 'eos', reason: 'eof', lastSeq: FRAMES - 1 });
      // A follower saw every result in order; it may see one twice only if it read it from the dying master
      // before a replica had it (the worker publishes it again): never here, where each commit waits for a replica.
      const followed = poseSeqs(seen);
      expect([...new Set(followed)]).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
      console.log(`[cluster-failover] lossless: retained ${poseSeqs(retained).length} results, follower saw ${followed.length}`);
    });

    it('leaves no frame behind: the frame stream is empty and nothing is pending', async () => {
      expect(await redis.xlen(keys.frames('walking'))).toBe(0);
      const [pending] = (await redis.xpending(keys.frames('walking'), FRAME_CONSUMER_GROUP)) as [number];
      expect(pending).toBe(0);
    });
  });

  describe('live: kill -9 the master holding the registry and a live stream', () => {
    const stops: Array<() => Promise<void>> = [];
    let liveId = '';
    let victim = 0;
    let killedAt = 0;
    let failoverAt = 0;
    let lastBefore: StreamResult | undefined;
    let firstAfter: { result: StreamResult; at: number } | undefined;
    let gatewayUrl = '';
    let registry: StreamRegistry;
    let client: GatewayTestClient;

    beforeAll(async () => {
      await cluster.restore();
      await cluster.flush();
      // A live stream whose slot is on the same master as the registry ({_global}), so one kill hits both.
      victim = await cluster.masterOf(keys.streams);
      for (let i = 0; !liveId; i += 1) {
        if ((await cluster.masterOf(keys.frames(`live-${i}`))) === victim) liveId = `live-${i}`;
      }
      const { config } = writeTestConfig(0, [{ id: liveId, url: 'test://ball', mode: 'live', fps: 10 }], { redis: redisConfig });
      registry = new StreamRegistry(redis);
      const gateway = await startGateway(config, { logger });
      gatewayUrl = gateway.url;
      stops.push(() => gateway.stop());
      const worker = await startWorker(config, { logger });
      stops.push(() => worker.stop());
      const ingest = await startIngest(config, { logger });
      stops.push(() => ingest.stop());

      // A dashboard-like client: results and frames through the gateway's followers (the cluster read path).
      client = await GatewayTestClient.connect(`${gatewayUrl.replace(/^http/, 'ws')}/ws`);
      client.send({ v: 1, type: 'subscribe', id: 's', streams: [liveId], channels: ['results', 'frames'] });
      const reader = new ResultReader(redis);
      await waitUntil(async () => (await reader.newest(liveId))?.result, 60_000, `first result of ${liveId}`, 200);
      await client.waitFor(() => client.of('result').length > 0 && client.frames.length > 0, 30_000, 'a result and a frame over the WebSocket');
      lastBefore = (await reader.newest(liveId))!.result;
      killedAt = Date.now();
      await cluster.kill(victim);
      await cluster.waitForFailover(keys.streams, victim);
      failoverAt = Date.now();
      const seqBefore = lastBefore.kind === 'pose' ? lastBefore.seq : -1;
      firstAfter = await waitUntil(
        async () => {
          const newest = await reader.newest(liveId);
          return newest?.result.kind === 'pose' && newest.result.seq > seqBefore && newest.result.captureTs > killedAt ? { result: newest.result, at: Date.now() } : undefined;
        },
        60_000,
        `a result of ${liveId} captured after the kill`,
        100,
      );
      console.log(
        `[cluster-failover] live: killed master :${victim} (registry + ${liveId}); failover done after ${seconds(failoverAt - killedAt)}; ` +
          `results resumed ${seconds(firstAfter.at - failoverAt)} after the failover`,
      );
    }, 180_000);

    afterAll(async () => {
      client?.close();
      for (const stop of stops.reverse()) await stop();
    });

    it('resumes the live stream once the slot is served again', () => {
      expect(firstAfter).toBeDefined();
      // Leases (claimIdleMs 1.5 s here) are re-taken and the stream re-synced within a few rebalance rounds, then the
      // frames held meanwhile are inferred: 2.7-12 s measured on a loaded 2-core machine, so the bound is generous.
      expect(firstAfter!.at - failoverAt).toBeLessThan(30_000);
    });

    it('keeps the registry and the stream state', async () => {
      expect((await registry.list()).map((s) => s.id)).toEqual([liveId]);
      expect((await registry.states()).get(liveId)?.state).toBe('running');
    });

    it('keeps a WebSocket client served: results and frames captured after the failover reach it', async () => {
      const after = (r: StreamResult) => r.kind === 'pose' && r.captureTs > failoverAt;
      await client.waitFor(() => client.of('result').some((m) => after(m.result)), 30_000, 'a result captured after the failover');
      const framesBefore = client.frames.length;
      await client.waitFor(() => client.frames.length > framesBefore, 30_000, 'a frame after the failover');
      const seqs = client.of('result').flatMap((m) => (m.result.kind === 'pose' ? [m.result.seq] : []));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    });

    it('keeps the gateway ready and serving the stream list', async () => {
      let lastReason = '';
      const ready = await waitUntil(async () => {
        const response = await fetch(`${gatewayUrl}/readyz`);
        const body = (await response.json()) as { streams: number; reason?: string };
        lastReason = body.reason ?? '';
        return response.status === 200 ? body : undefined;
      }, 20_000, 'gateway /readyz 200').catch((error: unknown) => {
        throw new Error(`${(error as Error).message}; last reason: ${lastReason}`);
      });
      expect(ready.streams).toBe(1);
    });
  });
});
