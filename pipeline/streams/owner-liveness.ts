import { describeError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import type { RedisClient } from '../redis/client.js';
import { keys } from '../redis/keys.js';
import type { StreamState, StreamStateName } from '../wire/v1.js';

/**
 * Stream states carry their owner's liveness. An ingest process writes its heartbeat (keys.ingests: process id ->
 * last beat, ms) every OWNER_HEARTBEAT_MS, and its states name it as `owner`. A reader (the gateway) shows a
 * starting/running/reconnecting stream whose owner's last beat is older than STALE_AFTER_MS as `stale`, older than
 * ORPHANED_AFTER_MS as `orphaned`: a killed ingest's streams are visibly not running within ~10 s, and move to
 * another ingest when BullMQ finds their job stalled (workers/ingest/assignment.ts: 8-12 s).
 */
export const OWNER_HEARTBEAT_MS = 1_500;
export const STALE_AFTER_MS = 4_000;
export const ORPHANED_AFTER_MS = 8_000;
/** Heartbeats older than this are removed from keys.ingests (by any ingest), so the set stays small. */
const FORGET_AFTER_MS = 10 * 60_000;

/** States that only hold while their owner is alive. */
const OWNED_STATES: ReadonlySet<StreamStateName> = new Set(['starting', 'running', 'reconnecting']);

/**
 * The state as a reader should show it: unchanged while the owner beats (or the state needs no owner); otherwise
 * stale/orphaned with the reported state and the owner's silence in `reason`. `lastBeat` undefined = never seen.
 */
export function withOwnerLiveness(state: StreamState, lastBeat: number | undefined, now: number): StreamState {
  if (!state.owner || !OWNED_STATES.has(state.state)) return state;
  const silentMs = now - (lastBeat ?? state.since);
  if (silentMs < STALE_AFTER_MS) return state;
  const derived = silentMs >= ORPHANED_AFTER_MS ? 'orphaned' : 'stale';
  return {
    ...state,
    state: derived,
    since: (lastBeat ?? state.since) + (derived === 'orphaned' ? ORPHANED_AFTER_MS : STALE_AFTER_MS),
    reason: `was ${state.state}; its ingest process ${state.owner} has not been heard from for ${Math.round(silentMs / 1000)} s`,
  };
}

/** Every ingest's last heartbeat (ms), by process id. */
export async function ownerHeartbeats(redis: RedisClient): Promise<Map<string, number>> {
  const flat = await redis.zrangebyscore(keys.ingests, '-inf', '+inf', 'WITHSCORES');
  const beats = new Map<string, number>();
  for (let i = 0; i + 1 < flat.length; i += 2) beats.set(flat[i]!, Number(flat[i + 1]));
  return beats;
}

/** An ingest process's heartbeat: written every OWNER_HEARTBEAT_MS, removed on a clean stop. */
export class OwnerHeartbeat {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly processId: string,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), OWNER_HEARTBEAT_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.redis.zrem(keys.ingests, this.processId).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    const now = Date.now();
    try {
      await this.redis.zadd(keys.ingests, now, this.processId);
      await this.redis.zremrangebyscore(keys.ingests, '-inf', now - FORGET_AFTER_MS);
    } catch (error) {
      // Redis away: the outage is logged once by RedisHealth; the next beat tries again.
      this.logger.debug({ reason: describeError(error) }, 'ingest heartbeat failed');
    }
  }
}
