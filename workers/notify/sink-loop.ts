import { describeError } from '../../pipeline/errors.js';
import type { Logger } from '../../pipeline/obs/logger.js';
import type { Metrics } from '../../pipeline/obs/metrics.js';
import { FollowLoop } from '../../pipeline/follow-loop.js';
import { NEW_EVENTS, OWN_PENDING_FROM_START, type EventEntry, type EventGroupReader } from './event-reader.js';
import type { DeliveryOutcome, Sink } from './sink.js';

/**
 * Feeds one sink kind from every followed stream's event stream: one blocking XREADGROUP across all streams at a
 * time, on the sink kind's own consumer group, only while the sink is ready and has room. Each event is acknowledged
 * (XACK) once the sink settled it; until then it stays pending in Redis, so a crash or restart re-delivers it
 * (at-least-once; consumers de-duplicate by event id).
 *
 * Per stream, reading starts with this consumer's own pending history ('0': what a previous run read and never
 * acknowledged) and then follows new events ('>'). A delivery settled 'retry' sends its stream back through the
 * pending history after RETRY_PAUSE_MS; entries still in flight are skipped there, never delivered twice at once.
 */

export const RETRY_PAUSE_MS = 1_000;
/** Also wakes the idle loop this often, so streams added to the registry are picked up without a callback. */
const POKE_MS = 1_000;

interface StreamCursor {
  /** NEW_EVENTS or the pending-history id to continue after. */
  cursor: string;
  /** A retry arrived while the history was being read past it: read the history again from the start. */
  rescan: boolean;
  /** No history read before this time (ms), after a retry. */
  historyAfter: number;
}

/** What the loop needs of an EventGroupReader (unit tests pass a fake). */
export type EventSource = Pick<EventGroupReader, 'ensureGroup' | 'read' | 'ack'>;

export interface SinkLoopOptions {
  /** Streams whose events to deliver (the registry's, plus recently removed ones). */
  streams: () => ReadonlySet<string>;
  logger: Logger;
  metrics?: Metrics;
  blockMs?: number;
  /** Entries per stream per read. */
  readCount?: number;
}

export class SinkLoop {
  private readonly cursors = new Map<string, StreamCursor>();
  private readonly inFlight = new Map<string, Set<string>>();
  private inFlightCount = 0;
  private readonly toAck = new Map<string, string[]>();
  private acking: Promise<void> = Promise.resolve();
  private readonly loop: FollowLoop;
  private readonly timer: NodeJS.Timeout;
  private readonly log: Logger;

  constructor(
    private readonly reader: EventSource,
    private readonly sink: Sink,
    private readonly options: SinkLoopOptions,
  ) {
    this.log = options.logger.child({ sink: sink.kind });
    this.loop = new FollowLoop({ idle: () => this.idle(), readOnce: () => this.readOnce(), logger: this.log, what: `events for ${sink.kind}` });
    this.timer = setInterval(() => this.loop.poke(), POKE_MS);
    this.timer.unref();
  }

  start(): void {
    this.loop.start();
  }

  /** Wake an idle loop now (the sink became ready). */
  poke(): void {
    this.loop.poke();
  }

  /** Stops reading. The caller then disconnects the blocking connection, which ends a pending read at once. */
  stop(): void {
    clearInterval(this.timer);
    this.loop.stop();
  }

  async stopped(): Promise<void> {
    await this.loop.stopped();
    await this.flushAcks();
  }

  get pending(): number {
    return this.inFlightCount;
  }

  private idle(): boolean {
    return !this.sink.ready() || this.inFlightCount >= this.sink.maxInFlight || this.options.streams().size === 0;
  }

  private async readOnce(): Promise<void> {
    await this.syncStreams();
    await this.flushAcks();
    const now = Date.now();
    const cursors = new Map<string, string>();
    for (const [streamId, state] of this.cursors) cursors.set(streamId, state.historyAfter > now ? NEW_EVENTS : state.cursor);
    let read;
    try {
      read = await this.reader.read(cursors, { count: this.options.readCount ?? 64, blockMs: this.options.blockMs ?? 1_000 });
    } catch (error) {
      // A stream's key was deleted (and with it the group): create the groups again on the next round.
      if (error instanceof Error && error.message.startsWith('NOGROUP')) {
        this.cursors.clear();
        return;
      }
      throw error;
    }
    for (const streamId of read.historyDone) this.historyFinished(streamId);
    for (const entry of read.entries) this.dispatch(entry, cursors.get(entry.streamId) !== NEW_EVENTS);
  }

  private async syncStreams(): Promise<void> {
    const wanted = this.options.streams();
    const removed = [...this.cursors.keys()].filter((id) => !wanted.has(id));
    for (const id of removed) this.cursors.delete(id);
    const added: string[] = [];
    for (const id of wanted) {
      if (this.cursors.has(id)) continue;
      await this.reader.ensureGroup(id);
      this.cursors.set(id, { cursor: OWN_PENDING_FROM_START, rescan: false, historyAfter: 0 });
      added.push(id);
    }
    if (added.length > 0 || removed.length > 0) this.sink.streamsChanged?.(added, removed);
  }

  private historyFinished(streamId: string): void {
    const state = this.cursors.get(streamId);
    if (!state) return;
    state.cursor = state.rescan ? OWN_PENDING_FROM_START : NEW_EVENTS;
    state.rescan = false;
  }

  private dispatch(entry: EventEntry, fromHistory: boolean): void {
    const state = this.cursors.get(entry.streamId);
    if (fromHistory && state) state.cursor = entry.entryId;
    const open = this.inFlight.get(entry.streamId) ?? new Set<string>();
    if (open.has(entry.entryId)) return;
    if (!entry.event) {
      this.options.metrics?.notifyDropped.inc({ sink: this.sink.kind, reason: entry.problem ?? 'invalid' });
      this.log.warn({ streamId: entry.streamId, entryId: entry.entryId, reason: entry.problem }, 'event entry not delivered: it does not decode or was trimmed');
      this.queueAck(entry.streamId, entry.entryId);
      return;
    }
    open.add(entry.entryId);
    this.inFlight.set(entry.streamId, open);
    this.inFlightCount += 1;
    let settled = false;
    this.sink.deliver({
      streamId: entry.streamId,
      entryId: entry.entryId,
      event: entry.event,
      settle: (outcome) => {
        if (settled) return;
        settled = true;
        this.settled(entry.streamId, entry.entryId, outcome);
      },
    });
  }

  private settled(streamId: string, entryId: string, outcome: DeliveryOutcome): void {
    const open = this.inFlight.get(streamId);
    open?.delete(entryId);
    if (open?.size === 0) this.inFlight.delete(streamId);
    this.inFlightCount -= 1;
    if (outcome === 'retry') this.scheduleRetry(streamId);
    else {
      this.queueAck(streamId, entryId);
      void this.flushAcks();
    }
    this.loop.poke();
  }

  private scheduleRetry(streamId: string): void {
    const state = this.cursors.get(streamId);
    if (!state) return;
    state.historyAfter = Date.now() + RETRY_PAUSE_MS;
    if (state.cursor === NEW_EVENTS) state.cursor = OWN_PENDING_FROM_START;
    else state.rescan = true;
  }

  private queueAck(streamId: string, entryId: string): void {
    const ids = this.toAck.get(streamId) ?? [];
    ids.push(entryId);
    this.toAck.set(streamId, ids);
  }

  /** Acknowledges what was settled, serialised; on failure the ids stay queued for the next round. */
  private flushAcks(): Promise<void> {
    this.acking = this.acking.then(async () => {
      for (const [streamId, ids] of [...this.toAck]) {
        this.toAck.delete(streamId);
        try {
          await this.reader.ack(streamId, ids);
        } catch (error) {
          this.toAck.set(streamId, [...ids, ...(this.toAck.get(streamId) ?? [])]);
          this.log.debug({ streamId, err: describeError(error) }, 'acknowledging events failed; retrying');
          return;
        }
      }
    });
    return this.acking;
  }
}
