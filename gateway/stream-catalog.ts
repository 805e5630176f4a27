import type { StreamConfig } from '../pipeline/streams/definition.js';
import type { Logger } from '../pipeline/obs/logger.js';
import type { StreamRegistry } from '../pipeline/streams/registry.js';
import type { StreamState } from '../pipeline/wire/v1.js';
import { OWNER_HEARTBEAT_MS, withOwnerLiveness } from '../pipeline/streams/owner-liveness.js';

/**
 * The gateway's in-memory view of the registry (stream configs and their latest states), kept current by the
 * registry's event stream plus a periodic re-read as a safety net. WebSocket subscriptions are validated against
 * it on every message, so it must not cost a Redis round trip each time.
 */

export interface StreamCatalogOptions {
  logger: Logger;
  refreshMs?: number;
  /** The set of stream ids changed. */
  onStreamsChanged: (ids: string[]) => void;
  onState: (state: StreamState) => void;
  /** Ingest heartbeats (owner-liveness.ts); without it states are shown as reported. */
  ownerBeats?: () => Promise<Map<string, number>>;
}

export class StreamCatalog {
  private configs = new Map<string, StreamConfig>();
  /** As reported by ingest. */
  private readonly stateById = new Map<string, StreamState>();
  /** As shown: the reported state, or stale/orphaned when its owner went quiet. */
  private readonly shownById = new Map<string, StreamState>();
  private beats = new Map<string, number>();
  private unwatch: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private livenessTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly registry: StreamRegistry,
    private readonly options: StreamCatalogOptions,
  ) {}

  async start(): Promise<void> {
    this.unwatch = this.registry.watch((event) => {
      if (event.kind === 'state') {
        this.stateById.set(event.streamId, event);
        this.show(event, Date.now(), true);
      } else {
        void this.refresh();
      }
    });
    await this.checkOwners();
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs ?? 10_000);
    this.timer.unref();
    if (this.options.ownerBeats) {
      this.livenessTimer = setInterval(() => void this.checkOwners(), OWNER_HEARTBEAT_MS);
      this.livenessTimer.unref();
    }
  }

  stop(): void {
    this.unwatch?.();
    if (this.timer) clearInterval(this.timer);
    if (this.livenessTimer) clearInterval(this.livenessTimer);
  }

  /** Re-reads the ingest heartbeats and shows streams whose owner went quiet as stale/orphaned (and back). */
  async checkOwners(now = Date.now()): Promise<void> {
    try {
      this.beats = (await this.options.ownerBeats?.()) ?? this.beats;
    } catch {
      return; // Redis away: keep showing what was shown; the outage itself is logged once by RedisHealth.
    }
    for (const state of this.stateById.values()) this.show(state, now, false);
  }

  /** Shows the state with its owner's liveness; tells onState when what is shown changed (or always, for news). */
  private show(reported: StreamState, now: number, always: boolean): void {
    const shown = this.options.ownerBeats ? withOwnerLiveness(reported, reported.owner ? this.beats.get(reported.owner) : undefined, now) : reported;
    const before = this.shownById.get(reported.streamId);
    this.shownById.set(reported.streamId, shown);
    if (always || before?.state !== shown.state) this.options.onState(shown);
  }

  ids(): string[] {
    return [...this.configs.keys()];
  }

  has(id: string): boolean {
    return this.configs.has(id);
  }

  config(id: string): StreamConfig | undefined {
    return this.configs.get(id);
  }

  state(id: string): StreamState | undefined {
    return this.shownById.get(id) ?? this.stateById.get(id);
  }

  states(): StreamState[] {
    return [...this.stateById.keys()].filter((id) => this.configs.has(id)).map((id) => this.state(id)!);
  }

  /** Re-reads the registry; REST passes its own fail-fast registry, so a request never waits for a Redis outage. */
  async refresh(source: StreamRegistry = this.registry): Promise<void> {
    try {
      const [list, states] = await Promise.all([source.list(), source.states()]);
      const before = [...this.configs.keys()].sort().join('\n');
      this.configs = new Map(list.map((stream) => [stream.id, stream]));
      const now = Date.now();
      for (const [id, state] of states) {
        this.stateById.set(id, state);
        this.show(state, now, false);
      }
      for (const id of this.stateById.keys()) {
        if (this.configs.has(id)) continue;
        this.stateById.delete(id);
        this.shownById.delete(id);
      }
      if ([...this.configs.keys()].sort().join('\n') !== before) this.options.onStreamsChanged(this.ids());
    } catch (error) {
      this.options.logger.warn({ err: error }, 'reading the stream registry failed');
    }
  }
}
