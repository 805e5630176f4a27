import type { Logger } from '../obs/logger.js';

/**
 * Whether this process can reach Redis, fed by the events of every connection it opened (createRedis, duplicates,
 * BullMQ's). An outage is one warning when the first connection fails and one line when every connection that
 * failed is ready again, however many connections and reconnect attempts there are: a role with six connections
 * logs one outage, not six (ARCHITECTURE.md, "Redis outages").
 *
 * One per process (`processRedisHealth`): `posestream run` hosts every role in one process and they share Redis.
 */
export class RedisHealth {
  /** Connections (by name) whose last event was a failure. */
  private readonly failing = new Map<string, string>();
  private outage: { since: number; reason: string } | undefined;
  private logger: Logger | undefined;
  private what = 'redis';

  /**
   * Where the warning and the recovery line go, and what to call Redis in them (the redacted URL): the latest
   * connection's (every role of a process logs through the same root logger and uses the same Redis).
   */
  configure(logger: Logger, what: string): void {
    this.logger = logger;
    this.what = what;
  }

  /** A connection failed (its 'error' event, or a BullMQ connection error). */
  connectionFailed(connection: string, error: unknown): void {
    const reason = connectionErrorReason(error);
    this.failing.set(connection, reason);
    if (this.outage) return;
    this.outage = { since: Date.now(), reason };
    this.logger?.warn({ reason, connection }, `${this.what} unreachable: ${reason}; retrying`);
  }

  /** A connection is ready (again). The outage ends when no connection is failing any more. */
  connectionReady(connection: string): void {
    this.failing.delete(connection);
    this.settle();
  }

  /** A connection was closed for good (quit/disconnect): it no longer counts either way. */
  connectionClosed(connection: string): void {
    this.failing.delete(connection);
    this.settle();
  }

  /** Undefined while Redis is reachable; else since when it is not and why. */
  current(): { since: number; reason: string } | undefined {
    return this.outage;
  }

  private settle(): void {
    if (!this.outage || this.failing.size > 0) return;
    const downMs = Date.now() - this.outage.since;
    this.outage = undefined;
    this.logger?.info({ downMs }, `${this.what} reachable again after ${(downMs / 1000).toFixed(1)} s`);
  }
}

export const processRedisHealth = new RedisHealth();

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);
const CONNECTION_MESSAGES = /^(Connection is closed\.?|Stream isn't writeable|connect E[A-Z]+|read E[A-Z]+|write E[A-Z]+|getaddrinfo E[A-Z]+)/;

/** True for errors that only say the connection to Redis is down (the outage, logged once by RedisHealth). */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return (code !== undefined && CONNECTION_CODES.has(code)) || CONNECTION_MESSAGES.test(error.message);
}

function connectionErrorReason(error: unknown): string {
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ?? error.message;
  return String(error);
}

/** Redis refused a write because it reached maxmemory (noeviction); also when wrapped (a CommitError's cause). */
export function isOutOfMemoryError(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth += 1) {
    if (current.message.startsWith('OOM ') || current.message.includes(': OOM command not allowed')) return true;
  }
  return false;
}
