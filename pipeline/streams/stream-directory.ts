import { describeError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import type { StreamConfig, StreamDefinitions } from './definition.js';
import type { StreamRegistry } from './registry.js';

/** A stream removed from the registry is still read this long, so its end marker and last frames are published. */
const REMOVED_GRACE_MS = 30_000;
/** Events can be missed (events stream trimmed, connection lost): the list is re-read this often anyway. */
const RELIST_MS = 5_000;

/**
 * The streams a role follows (the worker's frame streams, the notifier's event streams): every registered stream
 * (enabled or not: a disabled stream's frame stream still ends with an end marker), kept current from registry
 * events, plus recently removed ones.
 */
export class StreamDirectory implements StreamDefinitions {
  private current = new Set<string>();
  private definitions = new Map<string, StreamConfig>();
  private removedAt = new Map<string, number>();
  private unwatch: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly registry: StreamRegistry,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.unwatch = this.registry.watch((event) => {
      if (event.kind === 'stream-changed') void this.refresh();
    });
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), RELIST_MS);
  }

  ids(now = Date.now()): Set<string> {
    const ids = new Set(this.current);
    for (const [id, at] of this.removedAt) {
      if (now - at < REMOVED_GRACE_MS) ids.add(id);
      else this.removedAt.delete(id);
    }
    return ids;
  }

  /** The stream's definition as last read (undefined for a removed stream or an entry this version cannot read). */
  definition(streamId: string): StreamConfig | undefined {
    return this.definitions.get(streamId);
  }

  refresh(): Promise<void> {
    this.refreshing ??= this.registry
      .snapshot()
      .then(({ streams, unreadable }) => {
        // An entry this version cannot read is still a registered stream: its frames are served all the same.
        const next = new Set([...streams, ...unreadable].map((s) => s.id));
        for (const id of this.current) if (!next.has(id)) this.removedAt.set(id, Date.now());
        for (const id of next) this.removedAt.delete(id);
        this.current = next;
        // A removed stream keeps its last definition while its last frames are still served.
        const definitions = new Map(streams.map((stream) => [stream.id, stream]));
        for (const id of this.removedAt.keys()) {
          const last = this.definitions.get(id);
          if (last && !definitions.has(id)) definitions.set(id, last);
        }
        this.definitions = definitions;
      })
      .catch((error: unknown) => this.logger.warn({ err: describeError(error) }, 'reading the stream registry failed'))
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  stop(): void {
    this.unwatch?.();
    if (this.timer) clearInterval(this.timer);
  }
}
