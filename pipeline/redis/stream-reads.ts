import { isCluster, type RedisClient } from './client.js';
import { streamEntries, streamReadReply, type RawStreamEntry, type RedisValue } from './codec.js';
import { execPerNode, keySlot } from './per-node.js';

/**
 * Reading many Redis streams at once: the one read path of the worker's frame reader, the gateway's results and
 * preview followers and the notifier. Redis Cluster cannot do what one Redis does here, so the two modes differ:
 *
 * One Redis: one blocking XREAD / XREADGROUP over every stream (BLOCK blockMs), on a dedicated connection.
 *
 * Redis Cluster: a command may name keys of one slot only, and every stream has its own slot (its hash tag), so a
 * blocking read could cover one stream. Instead each round sends one non-blocking read per slot (the keys of one
 * stream, e.g. its results and its events, in one read, so a transaction that wrote both is seen whole or not at
 * all, as on one Redis), pipelined per node (one round trip per node, all nodes at once). A round that finds nothing pauses before the next, the pause
 * doubling from 1 ms up to maxPauseMs (and back to none as soon as something is read), so an idle reader costs a
 * few pipelines per second per node and a busy one reads back to back. The price is up to maxPauseMs of extra
 * latency after an idle spell (ARCHITECTURE.md, "Redis Cluster", has the measurements). One blocking connection
 * per stream would avoid it, at the cost of a connection per stream per reader and per node; at hundreds of
 * cameras that is thousands of connections, so polling is the default.
 */

export interface StreamCursor {
  key: string;
  /** XREAD: the last id seen ('$' = only new). XREADGROUP: '>' for new entries or an id into own pending history. */
  id: string;
}

export interface StreamReadSpec {
  /** Entries per stream per read. */
  count: number;
  /** One Redis: BLOCK this long. Cluster: the longest pause after rounds that found nothing. 0: return at once. */
  blockMs: number;
  /** XREADGROUP as this consumer of this group (otherwise XREAD). */
  group?: { name: string; consumer: string };
}

export interface StreamReadResult<F extends RedisValue> {
  /** Streams with entries (or, for history reads, with an empty history: entries []), in cursor order. */
  batches: Array<{ key: string; entries: Array<RawStreamEntry<F>> }>;
  /**
   * Streams whose read failed (transport error, NOGROUP...). On a cluster the others were still read: their
   * entries are in `batches` (an XREADGROUP's entries are pending for this consumer now and must not be dropped).
   */
  failed: Map<string, Error>;
}

/** Cluster: the pause after the first empty round; it doubles per empty round up to the spec's blockMs cap. */
const FIRST_PAUSE_MS = 1;
/** Cluster: at most this pause, whatever blockMs asks, so a reader notices new entries within it. */
export const CLUSTER_MAX_PAUSE_MS = 20;

export class StreamReads {
  private pauseMs = 0;
  private wake: (() => void) | undefined;
  private blockingClientId: number | undefined;
  /** Cluster: '$' cursors pinned to the newest id seen when first polled (see resolveNewest). */
  private readonly pinned = new Map<string, string>();

  constructor(
    /** Dedicated on one Redis (a blocking read holds it). */
    private readonly connection: RedisClient,
    private readonly options: {
      /** Another connection, so interrupt() can end a pending blocking read (CLIENT UNBLOCK) on one Redis. */
      commands?: RedisClient;
      /** Cluster: cap on the idle pause (default CLUSTER_MAX_PAUSE_MS). */
      maxPauseMs?: number;
    } = {},
  ) {}

  get clustered(): boolean {
    return isCluster(this.connection);
  }

  /** Reads the streams once (blocking on one Redis, see the module comment for a cluster). */
  async read(cursors: readonly StreamCursor[], spec: StreamReadSpec): Promise<StreamReadResult<string>>;
  async read(cursors: readonly StreamCursor[], spec: StreamReadSpec, buffers: true): Promise<StreamReadResult<Buffer>>;
  async read(cursors: readonly StreamCursor[], spec: StreamReadSpec, buffers = false): Promise<StreamReadResult<RedisValue>> {
    if (cursors.length === 0) return { batches: [], failed: new Map() };
    return this.clustered ? this.poll(cursors, spec, buffers) : this.block(cursors, spec, buffers);
  }

  /** Ends a pending blocking read (one Redis) or idle pause (cluster) now, e.g. because a stream was added. */
  async interrupt(): Promise<void> {
    this.pauseMs = 0;
    this.wake?.();
    const { commands } = this.options;
    if (this.clustered || !commands) return;
    this.blockingClientId ??= Number(await this.connection.client('ID'));
    await commands.client('UNBLOCK', this.blockingClientId);
  }

  private async block(cursors: readonly StreamCursor[], spec: StreamReadSpec, buffers: boolean): Promise<StreamReadResult<RedisValue>> {
    if (this.options.commands && this.blockingClientId === undefined) await this.rememberClientId();
    const wait = spec.blockMs > 0 ? ['BLOCK', spec.blockMs] : [];
    const args = [...readHead(spec), ...wait, 'STREAMS', ...cursors.map((c) => c.key), ...cursors.map((c) => c.id)];
    const command = spec.group ? 'xreadgroup' : 'xread';
    try {
      const reply = buffers ? await this.connection.callBuffer(command, ...args) : await this.connection.call(command, ...args);
      return { batches: orderedBatches(cursors, streamReadReply<RedisValue>(reply)), failed: new Map() };
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      return { batches: [], failed: new Map(cursors.map((c) => [c.key, failure])) };
    }
  }

  private async poll(requested: readonly StreamCursor[], spec: StreamReadSpec, buffers: boolean): Promise<StreamReadResult<RedisValue>> {
    const command = spec.group ? 'xreadgroup' : 'xread';
    const cursors = spec.group ? requested : await this.resolveNewest(requested);
    const bySlot = new Map<number, StreamCursor[]>();
    for (const cursor of cursors) bySlot.set(keySlot(cursor.key), [...(bySlot.get(keySlot(cursor.key)) ?? []), cursor]);
    const slots = [...bySlot.values()];
    const replies = await execPerNode(this.connection, slots, (slot) => slot[0]!.key, (pipeline, slot) => {
      const args = [...readHead(spec), 'STREAMS', ...slot.map((c) => c.key), ...slot.map((c) => c.id)];
      if (buffers) pipeline.callBuffer(command, ...args);
      else pipeline.call(command, ...args);
    });
    const failed = new Map<string, Error>();
    const found: Array<{ key: string; entries: Array<RawStreamEntry<RedisValue>> }> = [];
    for (const slot of slots) {
      const [error, reply] = replies.get(slot) ?? [new Error('no reply'), null];
      if (error) for (const cursor of slot) failed.set(cursor.key, error);
      else found.push(...streamReadReply<RedisValue>(reply));
    }
    const batches = orderedBatches(cursors, found);
    if (batches.some((batch) => batch.entries.length > 0) || cursors.some((c) => isHistory(c, spec))) {
      this.pauseMs = 0;
    } else if (failed.size < cursors.length && spec.blockMs > 0) {
      this.pauseMs = Math.min(Math.min(spec.blockMs, this.options.maxPauseMs ?? CLUSTER_MAX_PAUSE_MS), Math.max(FIRST_PAUSE_MS, this.pauseMs * 2));
      await this.pause(this.pauseMs);
    }
    return { batches, failed };
  }

  /**
   * XREAD '$' means "after the newest entry at the time of this call": fine for a blocking read, but a poll would
   * move it forward every round and miss what came between rounds. A '$' cursor is pinned to the newest id when it
   * is first polled (until the caller moves its cursor, which it does with the first entries it gets).
   */
  private async resolveNewest(cursors: readonly StreamCursor[]): Promise<StreamCursor[]> {
    const asked = new Set(cursors.filter((c) => c.id === '$').map((c) => c.key));
    for (const key of this.pinned.keys()) if (!asked.has(key)) this.pinned.delete(key);
    const unpinned = [...asked].filter((key) => !this.pinned.has(key));
    const newest = await execPerNode(this.connection, unpinned, (key) => key, (pipeline, key) => pipeline.xrevrange(key, '+', '-', 'COUNT', 1));
    for (const [key, [error, reply]] of newest) {
      if (!error) this.pinned.set(key, streamEntries(reply)[0]?.id ?? '0-0');
    }
    return cursors.map((c) => (c.id === '$' && this.pinned.has(c.key) ? { key: c.key, id: this.pinned.get(c.key)! } : c));
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  private async rememberClientId(): Promise<void> {
    this.blockingClientId = Number(await this.connection.client('ID'));
    // A reconnect gets a new id.
    this.connection.on('ready', () => {
      this.connection.client('ID').then((id) => (this.blockingClientId = Number(id)), () => undefined);
    });
  }
}

function readHead(spec: StreamReadSpec): Array<string | number> {
  const head: Array<string | number> = spec.group ? ['GROUP', spec.group.name, spec.group.consumer] : [];
  return [...head, 'COUNT', spec.count];
}

function isHistory(cursor: StreamCursor, spec: StreamReadSpec): boolean {
  return spec.group !== undefined && cursor.id !== '>';
}

/** Replies in cursor order (a reply map has no defined order), one entry per key that came back. */
function orderedBatches<F extends RedisValue>(
  cursors: readonly StreamCursor[],
  found: Array<{ key: string; entries: Array<RawStreamEntry<F>> }>,
): Array<{ key: string; entries: Array<RawStreamEntry<F>> }> {
  const byKey = new Map(found.map((batch) => [batch.key, batch.entries]));
  return cursors.flatMap((c) => (byKey.has(c.key) ? [{ key: c.key, entries: byKey.get(c.key)! }] : []));
}
