import type { ChainableCommander } from 'ioredis';
import { isOutOfMemoryError } from '../../pipeline/redis/health.js';
import { describeError } from '../../pipeline/errors.js';
import type { Logger } from '../../pipeline/obs/logger.js';
import type { Metrics } from '../../pipeline/obs/metrics.js';
import { isCluster, type RedisClient } from '../../pipeline/redis/client.js';
import type { FrameDelivery } from '../../pipeline/redis/frame-stream.js';
import type { ResultPublisher, ViewerCheck } from '../../pipeline/redis/result-stream.js';
import { keys } from '../../pipeline/redis/keys.js';
import type { ReplicaGuard } from '../../pipeline/redis/replica-guard.js';
import { commit } from '../../pipeline/redis/transaction.js';
import type { StageCommand } from '../../pipeline/stages/result-stage.js';
import type { Person, StreamResult } from '../../pipeline/wire/v1.js';
import type { EngineFrame, PoseInference } from './pose-engine.js';
import { buildEndOfStream, buildPoseResult, type SeqGuard, type WorkerTimings } from './result-builder.js';
import type { ResultStages, StageItem } from './result-stages.js';

export interface BatchRunnerDeps {
  redis: RedisClient;
  engine: Pick<PoseInference, 'infer'>;
  ack: { ackInto(multi: ChainableCommander, delivery: FrameDelivery): void };
  publisher: ResultPublisher;
  viewers: ViewerCheck;
  /**
   * The streams of a batch whose lease is still ours (confirmed with Redis when the local view is unsure). Frames of
   * other streams are left unacknowledged for their new owner: publishing them could duplicate results.
   */
  confirmOwned: (streamIds: Set<string>) => Promise<Set<string>>;
  guard: SeqGuard;
  stages: ResultStages;
  /**
   * These streams' parts of a batch were not committed (EXEC failed, or a stage threw): their frames are still
   * pending, and the guard and the stages are ahead of Redis until the streams are taken again from what it holds.
   */
  onCommitFailed: (streamIds: string[]) => void;
  processId: string;
  logger: Logger;
  metrics?: Metrics;
  /** After each commit: the pose and end-of-stream results it published. */
  onPublished?: (published: StreamResult[]) => void;
  /**
   * Commits of lossless streams (`appliesTo`) wait until the replicas asked for have them (WAIT), so a failover
   * cannot lose results whose frames are already acknowledged (pipeline/redis/replica-guard.ts).
   */
  replicas?: { guard: ReplicaGuard; appliesTo: (streamId: string) => boolean };
}

const INFER_ATTEMPTS = 3;

/** One stream's share of a batch's commit: its results, the stages' commands, the acks of all its frames. */
interface StreamPart {
  streamId: string;
  deliveries: FrameDelivery[];
  items: StageItem[];
  stageCommands: StageCommand[];
  /** Someone watches the stream's frames: results go to the preview stream with their frame too. */
  watched: boolean;
}

/** Persons per frame of the batch in order; undefined for a frame whose inference failed. */
interface Inferred {
  persons: Array<Person[] | undefined>;
  inferMs: number;
  postMs: number;
}

/**
 * Runs one batch: infer its frames, run the result stages per stream, then publish every result and acknowledge
 * every frame in one MULTI per stream (one for the whole batch on one Redis), so a crash before EXEC leaves the
 * frames pending (redelivered, never lost) and after EXEC they are gone (never duplicated). Batches infer concurrently but publish strictly in dispatch order, so each
 * stream's results stay in seq order however many requests are in flight, and stages see them in that order.
 */
export class BatchRunner {
  private publishTurn: Promise<void> = Promise.resolve();

  constructor(private readonly deps: BatchRunnerDeps) {}

  /**
   * Resolves once the batch is published (or given up on, which is logged and counted). `inferred` is called when
   * its inference is over (the request is free for the next batch while this one publishes).
   */
  run = async (batch: FrameDelivery[], inferred?: () => void): Promise<void> => {
    // Take the publishing turn now, in dispatch order, before any await.
    const previous = this.publishTurn;
    let finish!: () => void;
    this.publishTurn = new Promise<void>((resolve) => (finish = resolve));
    try {
      const inferStartTs = Date.now();
      const persons = await this.inferWithRetry(batch);
      inferred?.();
      await previous;
      await this.publish(batch, persons, inferStartTs);
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
      frames.push({ pixels, format: meta.format, width: meta.width, height: meta.height, sourceWidth: meta.sourceWidth, sourceHeight: meta.sourceHeight });
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

  private async publish(batch: FrameDelivery[], inferred: Inferred, inferStartTs: number): Promise<void> {
    const { deps } = this;
    const postStart = Date.now();
    const groups = groupByStream(batch);
    const streamIds = new Set(groups.keys());
    const owned = await deps.confirmOwned(streamIds);
    const watched = await deps.viewers.watched(streamIds).catch(() => new Set<string>());
    const persons = personsByDelivery(batch, inferred);
    const timings = (): WorkerTimings => ({ inferStartTs, inferMs: inferred.inferMs, postMs: inferred.postMs + (Date.now() - postStart) });
    const parts: StreamPart[] = [];
    for (const [streamId, deliveries] of groups) {
      if (!owned.has(streamId)) {
        for (const delivery of deliveries) deps.logger.warn({ streamId, entryId: delivery.entryId }, 'stream not publishable here now: frame left pending');
        continue;
      }
      const part = await this.prepare(streamId, deliveries, persons, timings, watched.has(streamId));
      if (part) parts.push(part);
    }
    if (parts.length === 0) return;
    const committed = await this.commit(parts, batch.length);
    const published = committed.flatMap((part) => part.items.map((item) => ('eos' in item ? item.eos : item.result)));
    this.record(published, batch);
    deps.onPublished?.(published);
  }

  /**
   * One transaction per group of parts: on one Redis the whole batch (one MULTI), on Redis Cluster each stream's
   * part alone (a stream's keys share one hash slot, two streams' do not), all sent at once; within a stream, seq
   * order holds because batches publish one after another. A part whose transaction fails (EXEC refused, a command
   * in it failed, the connection lost, its WAIT failed) leaves its frames pending: the stream is taken again from
   * what Redis holds and its frames reprocessed (never re-sent blindly: it may have been applied). Returns the parts
   * that committed.
   */
  private async commit(parts: StreamPart[], frames: number): Promise<StreamPart[]> {
    const { deps } = this;
    const groups = isCluster(deps.redis) ? parts.map((part) => [part]) : [parts];
    const outcomes = await Promise.all(
      groups.map(async (group) => {
        const guarded = this.guarded(group);
        try {
          const { replicated } = await commit(deps.redis, (tx) => group.forEach((part) => this.writePart(tx, part)), guarded?.waitFor(keys.frames(group[0]!.streamId)));
          guarded?.settle(replicated);
          if (this.outOfMemory) {
            this.outOfMemory = false;
            deps.logger.info('redis accepts results again');
          }
          return { group, ok: true };
        } catch (error) {
          this.reportCommitFailure(error, group, frames);
          return { group, ok: false };
        }
      }),
    );
    const failed = outcomes.filter((outcome) => !outcome.ok).flatMap((outcome) => outcome.group.map((part) => part.streamId));
    if (failed.length > 0) deps.onCommitFailed(failed);
    return outcomes.filter((outcome) => outcome.ok).flatMap((outcome) => outcome.group);
  }

  /** True while Redis refuses commits for lack of memory (logged once per spell, not once per batch). */
  private outOfMemory = false;

  /**
   * An OOM refusal (Redis at maxmemory, noeviction) is one warning until a commit succeeds again: the frames stay
   * pending and are committed once Redis has room, nothing is lost. Any other failure is logged each time.
   */
  private reportCommitFailure(error: unknown, group: StreamPart[], frames: number): void {
    const streams = group.map((part) => part.streamId);
    if (!isOutOfMemoryError(error)) {
      this.deps.logger.error({ err: describeError(error), streams, frames }, 'publishing a batch failed; its streams re-sync');
      return;
    }
    if (this.outOfMemory) return;
    this.outOfMemory = true;
    this.deps.logger.warn({ streams, frames }, 'redis is out of memory (maxmemory): results are not committed; their frames stay pending and are retried until redis has room');
  }

  /** The replica guard when the group holds a lossless stream. */
  private guarded(group: StreamPart[]): ReplicaGuard | undefined {
    const replicas = this.deps.replicas;
    return replicas?.guard.enabled && group.some((part) => replicas.appliesTo(part.streamId)) ? replicas.guard : undefined;
  }

  /**
   * One stream's part: results of its frames (stale and failed frames dropped), its end-of-stream, what the stages
   * add. Undefined when a stage failed: nothing of the stream is committed and it re-syncs.
   */
  private async prepare(
    streamId: string,
    deliveries: FrameDelivery[],
    persons: Map<FrameDelivery, Person[] | undefined>,
    timings: () => WorkerTimings,
    watched: boolean,
  ): Promise<StreamPart | undefined> {
    const { deps } = this;
    const items: StageItem[] = [];
    for (const delivery of deliveries) {
      const { entry } = delivery;
      if (entry.kind === 'eos') {
        items.push({ eos: buildEndOfStream(entry.end, Date.now()) });
        deps.guard.reset(streamId);
        continue;
      }
      const found = persons.get(delivery);
      if (!found) this.drop(delivery, 'infer_error');
      else if (deps.guard.isBehind(entry.meta)) this.drop(delivery, 'stale');
      else {
        items.push({ result: buildPoseResult(entry.meta, found, timings(), deps.processId, Date.now()), frame: { meta: entry.meta, pixels: entry.pixels } });
        deps.guard.advance(entry.meta);
      }
    }
    try {
      return { streamId, deliveries, items, stageCommands: await deps.stages.run(streamId, items), watched };
    } catch (error) {
      deps.logger.error({ streamId, err: describeError(error) }, 'a result stage failed; the stream re-syncs and its frames are processed again');
      deps.onCommitFailed([streamId]);
      return undefined;
    }
  }

  private writePart(multi: ChainableCommander, part: StreamPart): void {
    for (const [command, ...args] of part.stageCommands) multi.call(command, ...args);
    for (const item of part.items) {
      if ('eos' in item) this.deps.publisher.addInto(multi, item.eos);
      else this.deps.publisher.addInto(multi, item.result, part.watched ? item.frame : undefined);
    }
    for (const delivery of part.deliveries) this.deps.ack.ackInto(multi, delivery);
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
