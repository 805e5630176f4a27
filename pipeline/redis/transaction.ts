import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './client.js';
import { execValues } from './codec.js';
import { refreshOnMoved } from './per-node.js';

/**
 * MULTI / EXEC with an optional WAIT behind it, in one pipeline: one round trip, and on Redis Cluster one node (the
 * one serving the commands' slot, which must be a single slot). WAIT has no key of its own; sent in the same
 * pipeline it reaches exactly the master that just executed the transaction.
 *
 * Why WAIT: replication is asynchronous. A master that dies after EXEC but before its replica received the write
 * loses it at failover although the client saw it succeed. `WAIT n timeout` returns once n replicas acknowledged
 * everything this connection wrote (or at the timeout, with how many did), so a caller that waits for it knows its
 * write survives the failure of its master.
 */

export interface ReplicaWait {
  /** Replicas that must acknowledge (0 = do not wait). */
  replicas: number;
  timeoutMs: number;
}

export interface Committed {
  /** The values of the queued commands, in order. */
  values: unknown[];
  /** Replicas that acknowledged the write (WAIT's reply), when a wait was asked for. */
  replicated?: number;
}

/** The transaction failed, or its WAIT did (then it may have been applied without being confirmed). */
export class CommitError extends Error {
  constructor(
    message: string,
    /** EXEC's reply was seen (applied), but the WAIT behind it failed: applied on the master, not confirmed. */
    readonly applied: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CommitError';
  }
}

/**
 * Runs `write`'s commands atomically, then WAITs when `wait.replicas` > 0. Resolves with the values and how many
 * replicas acknowledged (fewer than asked means the timeout passed: the caller decides how to report it). Rejects
 * with CommitError when the transaction was refused or failed, or when the WAIT failed after it.
 */
export async function commit(client: RedisClient, write: (tx: ChainableCommander) => void, wait?: ReplicaWait): Promise<Committed> {
  // MULTI and EXEC are queued as plain commands (not ioredis' multi(), whose exec() sends at once), so WAIT can
  // follow EXEC in the same pipeline. Nothing here is re-sent by ioredis after a lost connection.
  const pipeline = client.pipeline();
  pipeline.call('multi');
  const first = pipeline.length;
  write(pipeline);
  const queued = pipeline.length - first;
  pipeline.call('exec');
  const waiting = wait !== undefined && wait.replicas > 0;
  if (waiting) pipeline.wait(wait.replicas, wait.timeoutMs);
  let replies: Array<[Error | null, unknown]>;
  try {
    replies = (await pipeline.exec()) ?? [];
  } catch (error) {
    throw new CommitError(`transaction failed: ${messageOf(error)}`, false, { cause: error });
  }
  refreshOnMoved(client, replies.map(([error]) => error));
  const [execError, execReply] = replies[first + queued] ?? [new Error('no EXEC reply'), null];
  if (execError) {
    // EXECABORT says only that something before it failed; the first failed command says what (MOVED, ...).
    const cause = replies.slice(first - 1, first + queued).find(([error]) => error)?.[0] ?? execError;
    throw new CommitError(`transaction failed: ${cause.message}`, false, { cause });
  }
  if (!Array.isArray(execReply)) throw new CommitError('transaction aborted (EXEC returned null)', false);
  let values: unknown[];
  try {
    values = execValues(execReply.map((value): [Error | null, unknown] => (value instanceof Error ? [value, null] : [null, value])));
  } catch (error) {
    throw new CommitError(`a command in the transaction failed: ${messageOf(error)}`, true, { cause: error });
  }
  if (!waiting) return { values };
  const [waitError, replicated] = replies[first + queued + 1] ?? [new Error('no WAIT reply'), null];
  if (waitError) throw new CommitError(`applied, but not confirmed by a replica: ${waitError.message}`, true, { cause: waitError });
  return { values, replicated: Number(replicated) };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** How often a lasting replica shortfall is logged again (with the count since the last line). */
const SHORTFALL_LOG_EVERY_MS = 60_000;

/**
 * Logs lossless writes that went on with fewer replica copies than asked: one warning when it starts, then one a
 * minute with the count while it lasts, and one line when writes are confirmed again. Counting is the caller's.
 */
export class ReplicaShortfall {
  private since: number | undefined;
  private loggedAt = 0;
  private count = 0;

  constructor(
    private readonly log: { warn(fields: object, message: string): void; info(fields: object, message: string): void },
    /** e.g. "lossless frames" or "result commits". */
    private readonly what: string,
  ) {}

  short(replicated: number, wanted: number, now = Date.now()): void {
    this.count += 1;
    this.since ??= now;
    if (now - this.loggedAt < SHORTFALL_LOG_EVERY_MS) return;
    this.loggedAt = now;
    this.log.warn(
      { replicated, wanted, writes: this.count },
      `${this.what} confirmed by ${replicated} of ${wanted} replica(s) within the wait: the failure of their master now would lose them`,
    );
    this.count = 0;
  }

  confirmed(): void {
    if (this.since === undefined) return;
    this.log.info({ writes: this.count, shortMs: Date.now() - this.since }, `${this.what} confirmed by replicas again`);
    this.since = undefined;
    this.loggedAt = 0;
    this.count = 0;
  }
}
