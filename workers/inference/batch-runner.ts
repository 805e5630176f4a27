import type { ChainableCommander, Redis } from 'ioredis';
import type { Logger } from '../../pipeline/obs/logger.js';
import type { Metrics } from '../../pipeline/obs/metrics.js';
import type { FrameDelivery } from '../../pipeline/redis/frame-stream.js';
import type { ResultPublisher, ViewerCheck } from '../../pipeline/redis/result-stream.js';
import { describeError } from '../../pipeline/errors.js';
import type { Person, StreamResult } from '../../pipeline/wire/v1.js';
import type { EngineFrame } from './pose-engine.js';
import { buildEndOfStream, buildPoseResult, type SeqGuard } from './result-builder.js';

/** What the runner needs from PoseEngine (kept structural so tests and benches can pass the real engine only). */
export interface InferenceEngine {
  infer(frames: EngineFrame[]): Promise<{ persons: Person[][]; inferMs: number; postMs: number }>;
}

export interface BatchRunnerDeps {
  redis: Redis;
  engine: InferenceEngine;
  ack: { ackInto(multi: ChainableCommander, delivery: FrameDelivery): void };
  publisher: ResultPublisher;
  viewers: ViewerCheck;
  /**
   * The streams of a batch whose lease is still ours (confirmed with Redis when the local view is unsure). Frames of
   * other streams are left unacknowledged for their new owner: publishing them could duplicate results.
   */
  confirmOwned: (streamIds: Set<string>) => Promise<Set<string>>;
  guard: SeqGuard;
  processId: string;
  logger: Logger;
  metrics?: Metrics;
  /** A frame delivered this many times without a result is dropped (acked, counted) instead of retried forever. */
  maxDeliveries?: number;
}

const INFER_ATTEMPTS = 3;

/** Persons per frame of the batch in order; undefined for a frame whose inference failed. */
interface Inferred {
  persons: Array<Person[] | undefined>;
  inferMs: number;
  postMs: number;
}
const PUBLISH_ATTEMPTS = 3;

/**
 * Runs one batch: infer its frames, then publish every result and acknowledge every frame in ONE MULTI, so a
 * crash before EXEC leaves the frames pending (redelivered, never lost) and after EXEC they are gone (never
 * duplicated). Batches infer concurrently but publish strictly in dispatch order, so each stream's results stay
 * in seq order however many requests are in flight.
 */
export class BatchRunner {
  private publishTurn: Promise<void> = Promise.resolve();

  constructor(private readonly deps: BatchRunnerDeps) {}

  /** Resolves once the batch is published (or given up on, which is logged and counted). */
  run = async (batch: FrameDelivery[]): Promise<void> => {
    // Take the publishing turn now, in dispatch order, before any await.
    const previous = this.publishTurn;
    let finish!: () => void;
    this.publishTurn = new Promise<void>((resolve) => (finish = resolve));
    try {
      const inferStartTs = Date.now();
      const inferred = await this.inferWithRetry(batch);
      await previous;
      await this.publish(batch, inferred, inferStartTs);
    } finally {
      await previous;
      finish();
    }
  };

  /** Resolves when every batch handed to run() so far has published. */
  idle(): Promise<void> {
    return this.publishTurn;
  }

  /**
   * Infers the batch; a batch that keeps failing is split so that one bad frame (PS_ENGINE_BAD_FRAME) costs only
   * itself. Frames without persons (undefined) are dropped and counted by the caller.
   */
  private async inferWithRetry(batch: FrameDelivery[]): Promise<Inferred> {
    const frames: EngineFrame[] = [];
    for (const delivery of batch) {
      if (delivery.entry.kind !== 'frame') continue;
      const { meta, pixels } = delivery.entry;
      frames.push({ pixels, width: meta.width, height: meta.height, sourceWidth: meta.sourceWidth, sourceHeight: meta.sourceHeight });
    }
    if (frames.length === 0) return { persons: [], inferMs: 0, postMs: 0 };
    for (let attempt = 1; attempt <= INFER_ATTEMPTS; attempt += 1) {
      try {
        return await this.deps.engine.infer(frames);
      } catch (error) {
        this.deps.logger.error({ err: describeError(error), attempt, frames: frames.length }, 'inference failed');
        if (frames.length > 1) break;
        if (attempt < INFER_ATTEMPTS) await sleep(100 * attempt);
      }
    }
    if (frames.length === 1) return { persons: [undefined], inferMs: 0, postMs: 0 };
    const single = await Promise.all(frames.map((frame) => this.deps.engine.infer([frame]).catch(() => undefined)));
    return {
      persons: single.map((r) => r?.persons[0]),
      inferMs: Math.max(0, ...single.map((r) => r?.inferMs ?? 0)),
      postMs: Math.max(0, ...single.map((r) => r?.postMs ?? 0)),
    };
  }

  private async publish(
    batch: FrameDelivery[],
    inferred: Inferred,
    inferStartTs: number,
  ): Promise<void> {
    const { deps } = this;
    const postStart = Date.now();
    const streams = new Set(batch.map((d) => d.streamId));
    const owned = await deps.confirmOwned(streams);
    const watched = await deps.viewers.watched(streams).catch(() => new Set<string>());
    const persons = personsByDelivery(batch, inferred);
    const multi = deps.redis.multi();
    const published: StreamResult[] = [];
    let commands = 0;
    // Each stream's commands go in as one consecutive group (its results in seq order, then nothing of another
    // stream): on Redis Cluster each group becomes its own MULTI, since a stream's keys share one hash slot.
    for (const [streamId, deliveries] of groupByStream(batch)) {
      if (!owned.has(streamId)) {
        for (const delivery of deliveries) deps.logger.warn({ streamId, entryId: delivery.entryId }, 'stream no longer owned: frame left for its new owner');
        continue;
      }
      for (const delivery of deliveries) {
        const { entry } = delivery;
        if (entry.kind === 'eos') {
          const eos = buildEndOfStream(entry.end, Date.now());
          deps.publisher.addInto(multi, eos);
          published.push(eos);
          deps.guard.reset(streamId);
        } else if (!persons.get(delivery)) {
          this.drop(delivery, 'infer_error');
        } else if (deps.guard.isBehind(entry.meta)) {
          this.drop(delivery, 'stale');
        } else {
          const postMs = inferred.postMs + (Date.now() - postStart);
          const timings = { inferStartTs, inferMs: inferred.inferMs, postMs };
          const result = buildPoseResult(entry.meta, persons.get(delivery)!, timings, deps.processId, Date.now());
          const preview = watched.has(streamId) ? { meta: entry.meta, pixels: entry.pixels } : undefined;
          deps.publisher.addInto(multi, result, preview);
          deps.guard.advance(entry.meta);
          published.push(result);
        }
        deps.ack.ackInto(multi, delivery);
        commands += 1;
      }
    }
    if (commands === 0) {
      multi.discard();
      return;
    }
    await this.exec(multi, batch.length);
    this.record(published, batch);
  }

  private async exec(multi: ChainableCommander, size: number): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const replies = (await multi.exec()) ?? [];
        const failed = replies.find(([error]) => error);
        if (failed) this.deps.logger.error({ err: describeError(failed[0]), size }, 'a result or ack command failed');
        return;
      } catch (error) {
        // EXEC was refused as a whole: nothing was written, the frames stay pending and are claimed again.
        this.deps.logger.error({ err: describeError(error), attempt, size }, 'publishing a batch failed');
        if (attempt >= PUBLISH_ATTEMPTS) throw error;
        await sleep(200 * attempt);
      }
    }
  }

  private drop(delivery: FrameDelivery, reason: 'infer_error' | 'stale'): void {
    this.deps.metrics?.framesDropped.inc({ stream_id: delivery.streamId, reason });
    if (reason === 'infer_error') {
      this.deps.logger.error({ streamId: delivery.streamId, entryId: delivery.entryId }, 'frame dropped after repeated inference failures');
    }
  }

  private record(published: StreamResult[], batch: FrameDelivery[]): void {
    const metrics = this.deps.metrics;
    if (!metrics) return;
    metrics.batchSize.observe(batch.filter((d) => d.entry.kind === 'frame').length);
    for (const result of published) {
      if (result.kind !== 'pose') continue;
      const labels = { stream_id: result.streamId };
      metrics.results.inc(labels);
      metrics.persons.inc(labels, result.persons.length);
      const t = result.timings;
      metrics.stageDuration.observe({ ...labels, stage: 'decode' }, t.decodeMs / 1000);
      metrics.stageDuration.observe({ ...labels, stage: 'queue' }, t.queueMs / 1000);
      metrics.stageDuration.observe({ ...labels, stage: 'infer' }, t.inferMs / 1000);
      metrics.stageDuration.observe({ ...labels, stage: 'post' }, t.postMs / 1000);
    }
  }
}

/** The persons inferred for each frame of the batch (frames are inferred in batch order; markers have none). */
function personsByDelivery(batch: FrameDelivery[], inferred: Inferred): Map<FrameDelivery, Person[] | undefined> {
  const persons = new Map<FrameDelivery, Person[] | undefined>();
  let frameIndex = 0;
  for (const delivery of batch) if (delivery.entry.kind === 'frame') persons.set(delivery, inferred.persons[frameIndex++]);
  return persons;
}

/** The batch's deliveries per stream, each stream's in batch (= seq) order. */
function groupByStream(batch: FrameDelivery[]): Map<string, FrameDelivery[]> {
  const groups = new Map<string, FrameDelivery[]>();
  for (const delivery of batch) {
    const group = groups.get(delivery.streamId);
    if (group) group.push(delivery);
    else groups.set(delivery.streamId, [delivery]);
  }
  return groups;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
