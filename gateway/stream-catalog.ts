import type { StreamConfig } from '../pipeline/streams/definition.js';
import type { Logger } from '../pipeline/obs/logger.js';
import type { StreamRegistry } from '../pipeline/streams/registry.js';
import type { StreamState } from '../pipeline/wire/v1.js';

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
}

export class StreamCatalog {
  private configs = new Map<string, StreamConfig>();
  private readonly stateById = new Map<string, StreamState>();
  private unwatch: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly registry: StreamRegistry,
    private readonly options: StreamCatalogOptions,
  ) {}

  async start(): Promise<void> {
    this.unwatch = this.registry.watch((event) => {
      if (event.kind === 'state') {
        this.stateById.set(event.streamId, event);
        this.options.onState(event);
      } else {
        void this.refresh();
      }
    });
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs ?? 10_000);
    this.timer.unref();
  }

  stop(): void {
    this.unwatch?.();
    if (this.timer) clearInterval(this.timer);
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
    return this.stateById.get(id);
  }

  states(): StreamState[] {
    return [...this.stateById.values()].filter((state) => this.configs.has(state.streamId));
  }

  /** Re-reads the registry; REST passes its own fail-fast registry, so a request never waits for a Redis outage. */
  async refresh(source: StreamRegistry = this.registry): Promise<void> {
    try {
      const [list, states] = await Promise.all([source.list(), source.states()]);
      const before = [...this.configs.keys()].sort().join('\n');
      this.configs = new Map(list.map((stream) => [stream.id, stream]));
      for (const [id, state] of states) this.stateById.set(id, state);
      for (const id of this.stateById.keys()) if (!this.configs.has(id)) this.stateById.delete(id);
      if ([...this.configs.keys()].sort().join('\n') !== before) this.options.onStreamsChanged(this.ids());
    } catch (error) {
      this.options.logger.warn({ err: error }, 'reading the stream registry failed');
    }
  }
}
