import type { RedisTarget } from '../../pipeline/redis/client.js';

/**
 * One client process of `bench transport` (cli/bench/transport.ts): for each of its streams a producer publishes
 * synthetic frames through the real lossless frame path (FramePublisher: wait for room, MULTI XADD+XLEN, WAIT when
 * asked), and one consumer reads them all (FrameConsumer through pipeline/redis/stream-reads.ts) and acknowledges
 * them like a worker commits (XACK + XDEL in one transaction per stream on a cluster, one for all on one Redis).
 * Counts what was acknowledged between startAt and endAt, and its own CPU time over that window.
 */

export interface TransportClientSpec {
  redis: RedisTarget;
  streamIds: string[];
  frameBytes: number;
  /** Epoch ms: the measured window. The client runs from launch until endAt. */
  startAt: number;
  endAt: number;
  /** Lossless publishes and acks wait for this many replicas (0 = no WAIT). */
  waitReplicas: number;
  queueLength: number;
}

export interface TransportClientResult {
  frames: number;
  bytes: number;
  cpuSeconds: number;
  /** Round trips in the window, ms: each lossless publish (MULTI XADD+XLEN [+ WAIT]) and each ack commit. */
  publishMs: number[];
  ackMs: number[];
  /** Publishes, reads or acks that failed, and frames that did not decode (should be 0). */
  errors: number;
}

export async function runTransportClient(spec: TransportClientSpec): Promise<TransportClientResult> {
  const { createLogger } = await import('../../pipeline/obs/logger.js');
  const { createRedis, isCluster } = await import('../../pipeline/redis/client.js');
  const { FrameConsumer, FramePublisher } = await import('../../pipeline/redis/frame-stream.js');
  const { ReplicaGuard } = await import('../../pipeline/redis/replica-guard.js');
  const { commit } = await import('../../pipeline/redis/transaction.js');
  const { keys } = await import('../../pipeline/redis/keys.js');
  const logger = createLogger('bench', 'warn');
  const publishing = createRedis(spec.redis, { name: 'bench-publish', logger });
  const reading = createRedis(spec.redis, { name: 'bench-read', logger });
  const acking = createRedis(spec.redis, { name: 'bench-ack', logger });
  const pixels = Buffer.alloc(spec.frameBytes, 0x5a);
  // Frames decode only when width x height x 3 is their size: 640 wide when that divides, else one row.
  const width = spec.frameBytes % (640 * 3) === 0 ? 640 : spec.frameBytes / 3;
  const height = spec.frameBytes / 3 / width;
  const replicas = (client: typeof publishing) => new ReplicaGuard(client, { replicas: spec.waitReplicas, timeoutMs: 1_000, logger, what: 'bench frames' });
  const inWindow = (now: number) => now >= spec.startAt && now < spec.endAt;
  let frames = 0;
  let errors = 0;
  const publishMs: number[] = [];
  const ackMs: number[] = [];

  const produce = async (streamId: string) => {
    const publisher = new FramePublisher(publishing, { streamId, mode: 'lossless', liveQueueLength: 4, losslessQueueLength: spec.queueLength, replicas: replicas(publishing) });
    // The consumer stops at endAt too: a producer waiting for room then must not wait forever.
    const ended = AbortSignal.timeout(Math.max(1, spec.endAt - Date.now()));
    for (let seq = 0; Date.now() < spec.endAt; seq += 1) {
      try {
        await publisher.waitForRoom(ended);
        const now = Date.now();
        const sentAt = performance.now();
        const meta = { v: 1 as const, streamId, seq, captureTs: now, publishTs: now, decodeMs: 0, width, height, sourceWidth: width, sourceHeight: height, format: 'rgb24' as const };
        await publisher.publish(meta, pixels, ended);
        if (inWindow(now)) publishMs.push(performance.now() - sentAt);
      } catch {
        if (!ended.aborted) errors += 1;
      }
    }
  };

  const consume = async () => {
    const consumer = new FrameConsumer(reading, { consumer: `bench-${process.pid}`, claimIdleMs: 60_000 });
    consumer.onBadEntry = () => (errors += 1);
    const guard = replicas(acking);
    while (Date.now() < spec.endAt) {
      let deliveries;
      try {
        deliveries = await consumer.read(spec.streamIds, { count: 8, blockMs: 50 });
      } catch {
        errors += 1;
        continue;
      }
      const byStream = new Map<string, typeof deliveries>();
      for (const delivery of deliveries) byStream.set(delivery.streamId, [...(byStream.get(delivery.streamId) ?? []), delivery]);
      const groups = isCluster(acking) ? [...byStream.values()] : [deliveries];
      await Promise.all(
        groups.map(async (group) => {
          if (group.length === 0) return;
          const sentAt = performance.now();
          const inside = inWindow(Date.now());
          try {
            const { replicated } = await commit(acking, (tx) => group.forEach((d) => consumer.ackInto(tx, d)), guard.waitFor(keys.frames(group[0]!.streamId)));
            guard.settle(replicated);
            if (inside) ackMs.push(performance.now() - sentAt);
          } catch {
            errors += 1;
            return;
          }
          if (inWindow(Date.now())) frames += group.filter((d) => d.entry.kind === 'frame').length;
        }),
      );
    }
  };

  let cpuAtStart: NodeJS.CpuUsage | undefined;
  const startTimer = setTimeout(() => (cpuAtStart = process.cpuUsage()), Math.max(0, spec.startAt - Date.now()));
  await Promise.all([...spec.streamIds.map(produce), consume()]);
  clearTimeout(startTimer);
  const cpu = process.cpuUsage(cpuAtStart);
  for (const client of [publishing, reading, acking]) client.disconnect();
  return { frames, bytes: frames * spec.frameBytes, cpuSeconds: (cpu.user + cpu.system) / 1e6, publishMs, ackMs, errors };
}
