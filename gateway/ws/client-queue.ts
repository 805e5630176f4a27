/**
 * Per-client send queue with a named drop policy, so that one slow WebSocket client can neither grow the gateway's
 * memory nor delay anyone else.
 *
 * Bounds:
 *  - at most `maxInFlightBytes` handed to the socket and not yet flushed to the kernel (the send callback tells us;
 *    this is ws's bufferedAmount, accounted per message so we know when to pump again without polling);
 *  - at most `limit` droppable messages (frames, live results) waiting behind that;
 *  - control and replay messages are never dropped, but the whole queue may not exceed `limit + controlSlack`
 *    messages: past that the client is hopeless and `enqueue` returns 'overflow' (the hub then closes it).
 *
 * Drop policy when full: evict the oldest queued frame (any stream: newer frames matter more); with no frame
 * queued, a new frame is dropped; a new result evicts the oldest queued result. Drops are counted per
 * stream+channel and reported to the client with one coalesced `dropped` notice per stream+channel, sent as soon as
 * the socket has room again (so the notices themselves cannot pile up).
 */

export type QueueChannel = 'frames' | 'results' | 'control';

export interface OutgoingMessage {
  data: Uint8Array | string;
  binary: boolean;
  /** frames and results may be dropped; control (hello, errors, states, replayed results) never is. */
  channel: QueueChannel;
  streamId?: string;
}

/** The slice of a ws WebSocket the queue needs; tests pass a fake. */
export interface MessageSink {
  send(data: Uint8Array | string, options: { binary: boolean }, callback: (error?: Error) => void): void;
}

export interface ClientQueueOptions {
  /** Droppable messages waiting per client (config gateway.clientQueueLimit). */
  limit: number;
  maxInFlightBytes?: number;
  controlSlack?: number;
  /** Builds the `dropped` notice for one stream+channel with the running total. */
  droppedNotice: (streamId: string, channel: 'frames' | 'results', total: number) => string;
  onDrop?: (channel: 'frames' | 'results', streamId: string) => void;
}

export type EnqueueOutcome = 'queued' | 'dropped' | 'overflow' | 'closed';

const DEFAULT_MAX_IN_FLIGHT_BYTES = 1024 * 1024;
const DEFAULT_CONTROL_SLACK = 256;

function byteLength(data: Uint8Array | string): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
}

export class ClientQueue {
  private readonly queue: OutgoingMessage[] = [];
  private readonly dropTotals = new Map<string, number>();
  private readonly pendingNotices = new Set<string>();
  private readonly roomWaiters: Array<(open: boolean) => void> = [];
  private readonly maxInFlightBytes: number;
  private readonly controlSlack: number;
  private inFlight = 0;
  private pumping = false;
  private closed = false;

  constructor(
    private readonly sink: MessageSink,
    private readonly options: ClientQueueOptions,
  ) {
    this.maxInFlightBytes = options.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES;
    this.controlSlack = options.controlSlack ?? DEFAULT_CONTROL_SLACK;
  }

  get length(): number {
    return this.queue.length;
  }

  get inFlightBytes(): number {
    return this.inFlight;
  }

  /** The socket has stopped draining: anything sent now would only wait in the queue or be evicted from it. */
  get congested(): boolean {
    return this.inFlight >= this.maxInFlightBytes;
  }

  droppedCount(streamId: string, channel: 'frames' | 'results'): number {
    return this.dropTotals.get(`${channel}\u0000${streamId}`) ?? 0;
  }

  enqueue(message: OutgoingMessage): EnqueueOutcome {
    if (this.closed) return 'closed';
    const droppable = this.queue.reduce((n, m) => (m.channel === 'control' ? n : n + 1), 0);
    if (message.channel !== 'control' && droppable >= this.options.limit && !this.makeRoomFor(message)) {
      this.pump();
      return 'dropped';
    }
    if (this.queue.length >= this.options.limit + this.controlSlack) return 'overflow';
    this.queue.push(message);
    this.pump();
    return 'queued';
  }

  /**
   * Resolves once the client has drained its queue (true), or the queue was closed (false). Replays await this
   * between pages so that a long history is paced by the client instead of being dropped or buffered.
   */
  waitForRoom(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.queue.length === 0 && this.inFlight < this.maxInFlightBytes) return Promise.resolve(true);
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
    for (const resolve of this.roomWaiters.splice(0)) resolve(false);
  }

  /** Evicts one queued message so `incoming` fits; false when `incoming` itself must be dropped. */
  private makeRoomFor(incoming: OutgoingMessage): boolean {
    let victim = this.queue.findIndex((m) => m.channel === 'frames');
    if (victim < 0 && incoming.channel === 'results') victim = this.queue.findIndex((m) => m.channel === 'results');
    if (victim < 0) {
      this.countDrop(incoming);
      return false;
    }
    const [evicted] = this.queue.splice(victim, 1);
    this.countDrop(evicted!);
    return true;
  }

  /** Counts (and reports to the client) a message dropped before it reached this queue. */
  recordDrop(channel: 'frames' | 'results', streamId: string): void {
    this.countDrop({ data: '', binary: false, channel, streamId });
    this.pump();
  }

  private countDrop(message: OutgoingMessage): void {
    if (message.channel === 'control') return;
    const streamId = message.streamId ?? '';
    const key = `${message.channel}\u0000${streamId}`;
    this.dropTotals.set(key, (this.dropTotals.get(key) ?? 0) + 1);
    this.pendingNotices.add(key);
    this.options.onDrop?.(message.channel, streamId);
  }

  private nextMessage(): OutgoingMessage | undefined {
    const noticeKey = this.pendingNotices.values().next();
    if (!noticeKey.done) {
      this.pendingNotices.delete(noticeKey.value);
      const [channel, streamId] = noticeKey.value.split('\u0000') as ['frames' | 'results', string];
      const text = this.options.droppedNotice(streamId, channel, this.dropTotals.get(noticeKey.value) ?? 0);
      return { data: text, binary: false, channel: 'control' };
    }
    return this.queue.shift();
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.closed && this.inFlight < this.maxInFlightBytes) {
        const message = this.nextMessage();
        if (!message) break;
        const size = byteLength(message.data);
        this.inFlight += size;
        this.sink.send(message.data, { binary: message.binary }, () => {
          // An error here means the socket is gone; the hub learns that from the close event.
          this.inFlight -= size;
          this.pump();
        });
      }
    } finally {
      this.pumping = false;
    }
    if (this.queue.length === 0 && this.inFlight < this.maxInFlightBytes) {
      for (const resolve of this.roomWaiters.splice(0)) resolve(true);
    }
  }
}
