import { describeError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import type { RedisClient } from '../redis/client.js';
import { keys } from '../redis/keys.js';
import type { StreamConfig } from './definition.js';
import type { StreamRegistry } from './registry.js';

/** How often a seeding role checks that Redis still has the registry (keys.seedMarker). */
export const SEED_CHECK_MS = 2_000;

/**
 * Keeps the config's streams in the registry across a Redis that comes back empty (restarted without persistence,
 * or flushed): the registry, states, frames and BullMQ queues are gone, and nothing would ever start the streams
 * again. Seeding writes keys.seedMarker after the streams; every SEED_CHECK_MS (and whenever a connection is ready
 * again) the marker is looked for, and a missing one means Redis lost its data: the config's streams are seeded
 * again, which emits registry events, so ingest recreates the jobs and workers the consumer groups. Streams that
 * were added through REST are gone with the data (they lived only in Redis).
 *
 * Idempotent across processes: the gateway and every ingest run one; seeding twice writes the same entries.
 */
export class ConfigSeed {
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private reseeds = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly registry: StreamRegistry,
    private readonly options: { streams: readonly StreamConfig[]; by: string; logger: Logger; checkMs?: number },
  ) {}

  /** Seeds now (at start: the normal case, not logged as a re-seed). */
  async seed(): Promise<void> {
    await this.registry.seed([...this.options.streams]);
    await this.redis.set(keys.seedMarker, JSON.stringify({ by: this.options.by, at: Date.now() }));
  }

  /** From now on, seeds again whenever the marker is missing. */
  start(): void {
    this.timer = setInterval(() => void this.check(), this.options.checkMs ?? SEED_CHECK_MS);
    this.timer.unref();
    this.redis.on('ready', () => void this.check());
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** How many times Redis came back empty and was seeded again (tests, /readyz). */
  get reseeded(): number {
    return this.reseeds;
  }

  /** One check (at most one at a time); errors (Redis down) wait for the next one. */
  check(): Promise<void> {
    this.checking ??= this.checkOnce().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    if (!this.timer) return;
    try {
      if ((await this.redis.exists(keys.seedMarker)) === 1) return;
      this.options.logger.warn(
        { streams: this.options.streams.length },
        `redis has no stream registry (it restarted without its data, or was flushed): seeding the config's ${this.options.streams.length} stream(s) again; streams added through REST are gone`,
      );
      await this.seed();
      this.reseeds += 1;
      this.options.logger.info({ streams: this.options.streams.map((s) => s.id) }, 'config streams seeded again');
    } catch (error) {
      this.options.logger.debug({ reason: describeError(error) }, 'registry check failed; retrying');
    }
  }
}

/** Why the registry is not usable yet (for /readyz), or undefined when the seed marker is there. */
export async function registryNotSeeded(redis: RedisClient): Promise<string | undefined> {
  if ((await redis.exists(keys.seedMarker)) === 1) return undefined;
  return 'the stream registry is not seeded (redis restarted without its data?): re-seeding the config streams';
}
