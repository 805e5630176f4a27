import type { Logger } from '../pipeline/obs/logger.js';
import type { RedisClient } from '../pipeline/redis/client.js';
import { decodeResultEntries, type ResultEntry } from '../pipeline/redis/codec.js';
import { decodePoseEventEntries, type PoseEventEntry } from '../pipeline/redis/event-stream.js';
import { keys, streamIdOfKey } from '../pipeline/redis/keys.js';
import { StreamReads } from '../pipeline/redis/stream-reads.js';
import { FollowLoop } from '../pipeline/follow-loop.js';

/**
 * The gateway's single Redis read loop for what the workers publish: one read over the results and the pose-event
 * streams of every registered stream (pipeline/redis/stream-reads.ts: one blocking XREAD on one Redis, one XREAD
 * per stream on Redis Cluster), however many clients watch them (clients never cause Redis reads of their own,
 * except a fromStart replay). A stream joins at its current tail ids rather than '$', so nothing published between
 * "added" and the next read is missed.
 *
 * One read for both kinds of a stream keeps their order: a worker commits a batch's events before its results in
 * one MULTI, so a read sees both or neither (a stream's two keys share its hash slot, so a cluster reads them in one
 * XREAD too), and handing out each reply's events before its results means an end-of-stream never overtakes the last
 * events of its stream.
 */

const LEAVE_GRACE_MS = 30_000;

/** Entries per stream per read: a catch-up burst reaches clients in slices their queues can absorb. */
const READ_COUNT = 64;

type Kind = 'results' | 'events';

export interface PipelineFollowerOptions {
  logger: Logger;
  blockMs?: number;
  onResults: (streamId: string, entries: ResultEntry[]) => void;
  onEvents: (streamId: string, entries: PoseEventEntry[]) => void;
  /** Newest entry ids of a stream's results and events, read on a non-blocking connection. */
  tailIds: (streamId: string) => Promise<Record<Kind, string>>;
  /**
   * Another connection, with which a new stream ends the pending blocking read (CLIENT UNBLOCK on one Redis), so it
   * is read at once, not after blockMs.
   */
  commands?: RedisClient;
  onBadEntry?: (streamId: string, kind: Kind, entryId: string, error: Error) => void;
}

function keyOf(kind: Kind, streamId: string): string {
  return kind === 'results' ? keys.results(streamId) : keys.poseEvents(streamId);
}

export class PipelineFollower {
  private readonly cursors = new Map<string, Record<Kind, string>>();
  /** Streams no longer registered -> when to stop following them. */
  private readonly leaving = new Map<string, number>();
  private readonly blockMs: number;
  private readonly loop: FollowLoop;
  private readonly reads: StreamReads;

  /** `redis` is a dedicated connection: on one Redis the XREAD blocks it. */
  constructor(
    redis: RedisClient,
    private readonly options: PipelineFollowerOptions,
  ) {
    this.reads = new StreamReads(redis, options.commands ? { commands: options.commands } : {});
    this.blockMs = options.blockMs ?? 1_000;
    this.loop = new FollowLoop({ idle: () => this.cursors.size === 0, readOnce: () => this.readOnce(), logger: options.logger, what: 'results' });
  }

  /**
   * Follows these streams from now on; new ones start at their current tails. A stream that left the registry is
   * still followed until its end-of-stream arrives (the ingest publishes it after the removal) or LEAVE_GRACE_MS.
   */
  async setStreams(streamIds: Iterable<string>): Promise<void> {
    const wanted = new Set(streamIds);
    const now = Date.now();
    for (const id of this.cursors.keys()) {
      if (!wanted.has(id) && !this.leaving.has(id)) this.leaving.set(id, now + LEAVE_GRACE_MS);
    }
    for (const id of wanted) this.leaving.delete(id);
    let added = false;
    for (const id of wanted) {
      if (this.cursors.has(id)) continue;
      const tails = await this.options.tailIds(id);
      if (!this.cursors.has(id)) {
        this.cursors.set(id, { ...tails });
        added = true;
      }
    }
    this.loop.poke();
    if (added) await this.reads.interrupt().catch(() => undefined);
  }

  /**
   * The ids of the stream's results and events last handed to onResults / onEvents (or its tail when it joined):
   * everything after them is still to be handed out. Undefined while the stream is not followed.
   */
  position(streamId: string): Readonly<Record<Kind, string>> | undefined {
    const cursor = this.cursors.get(streamId);
    return cursor ? { ...cursor } : undefined;
  }

  start(): void {
    this.loop.start();
  }

  /** The caller disconnects the blocking connection afterwards, which ends a pending XREAD at once. */
  async stop(): Promise<void> {
    this.loop.stop();
  }

  async stopped(): Promise<void> {
    await this.loop.stopped();
  }

  private forget(streamId: string): void {
    this.leaving.delete(streamId);
    this.cursors.delete(streamId);
  }

  private async readOnce(): Promise<void> {
    const now = Date.now();
    for (const [id, deadline] of this.leaving) if (deadline < now) this.forget(id);
    if (this.cursors.size === 0) return;
    const targets: Array<{ kind: Kind; streamId: string; key: string }> = [];
    for (const streamId of this.cursors.keys()) for (const kind of ['events', 'results'] as const) targets.push({ kind, streamId, key: keyOf(kind, streamId) });
    const { batches, failed } = await this.reads.read(
      targets.map((target) => ({ key: target.key, id: this.cursors.get(target.streamId)![target.kind] })),
      { count: READ_COUNT, blockMs: this.blockMs },
    );
    // XREAD has no side effect: a stream whose read failed (a failover) is read again next round from its cursor.
    if (failed.size === targets.length) throw failed.values().next().value!;
    const read = batches.filter(({ entries }) => entries.length > 0);
    const byKind = (kind: Kind) => read.filter(({ key }) => key === keyOf(kind, streamIdOfKey(key)));
    for (const kind of ['events', 'results'] as const) {
      for (const { key, entries } of byKind(kind)) {
        const streamId = streamIdOfKey(key);
        const cursor = this.cursors.get(streamId);
        // A stream removed while the read was in flight stays removed.
        if (!cursor) continue;
        cursor[kind] = entries[entries.length - 1]!.id;
        const onBad = (entryId: string, error: Error) => this.options.onBadEntry?.(streamId, kind, entryId, error);
        if (kind === 'events') {
          const events = decodePoseEventEntries(entries, onBad);
          if (events.length > 0) this.options.onEvents(streamId, events);
          continue;
        }
        const results = decodeResultEntries(entries, onBad);
        if (results.length > 0) this.options.onResults(streamId, results);
        if (this.leaving.has(streamId) && results.some((entry) => entry.result.kind === 'eos')) this.forget(streamId);
      }
    }
    // Let socket write callbacks run between bursts, so a burst is paced by clients' queues, not dropped.
    if (read.length > 0) await new Promise((resolve) => setImmediate(resolve));
  }
}
