/**
 * Which waiting frames go into the next batch: round-robin across streams, so past capacity every camera gets a
 * fair share and none starves. Each stream has its own FIFO queue (its frames stay in seq order); a batch takes one
 * frame per stream per pass, starting at the stream after the last one the previous batch took from, until the batch
 * is full or nothing waits. So a batch holds at most ceil(max / streams waiting) frames of one stream while others
 * wait, and a stream with nothing waiting leaves its share to the others (no slot idles).
 *
 * Items that need no inference (end-of-stream markers) take no slot: they leave with the frame before them, or on
 * their own when nothing of their stream is ahead of them, so a stream's order is kept.
 */
export interface FrameSchedulerOptions<T> {
  streamOf: (item: T) => string;
  /** false for items that ride along without taking a batch slot. Default: all count. */
  isInferable?: (item: T) => boolean;
}

export class FrameScheduler<T> {
  private readonly queues = new Map<string, T[]>();
  /** Streams with waiting items, in the order they first had some: the rotation. */
  private ring: string[] = [];
  /** Index into ring of the stream the next batch starts with. */
  private start = 0;
  private waiting = 0;
  private waitingInferable = 0;
  private readonly isInferable: (item: T) => boolean;

  constructor(private readonly options: FrameSchedulerOptions<T>) {
    this.isInferable = options.isInferable ?? (() => true);
  }

  /** Items waiting (inferable or not). */
  get size(): number {
    return this.waiting;
  }

  /** Items waiting that take a batch slot. */
  get inferable(): number {
    return this.waitingInferable;
  }

  add(item: T): void {
    const streamId = this.options.streamOf(item);
    const queue = this.queues.get(streamId);
    if (queue) queue.push(item);
    else {
      this.queues.set(streamId, [item]);
      this.ring.push(streamId);
    }
    this.waiting += 1;
    if (this.isInferable(item)) this.waitingInferable += 1;
  }

  /** The next batch: up to `max` inferable items (plus markers riding along), round-robin across streams. */
  take(max: number): T[] {
    const batch: T[] = [];
    if (this.ring.length === 0) return batch;
    const order = [...this.ring];
    let index = this.start % this.ring.length;
    let last: string | undefined;
    let slots = max;
    while (this.ring.length > 0 && slots > 0) {
      const streamId = this.ring[index]!;
      const queue = this.queues.get(streamId)!;
      const used = this.takeOne(queue, batch);
      if (used > 0) last = streamId;
      slots -= used;
      if (queue.length === 0) {
        this.queues.delete(streamId);
        this.ring.splice(index, 1);
        if (this.ring.length > 0) index %= this.ring.length;
      } else {
        index = (index + 1) % this.ring.length;
      }
    }
    // Markers left at the head of a queue (behind nothing) need no slot: let them out now.
    for (const streamId of [...this.ring]) this.releaseMarkers(streamId, batch);
    this.rotatePast(order, last);
    return batch;
  }

  /** Drops what waits for these streams (handed back, re-synced) and returns it. */
  remove(streamId: string): T[] {
    const queue = this.queues.get(streamId) ?? [];
    this.queues.delete(streamId);
    const at = this.ring.indexOf(streamId);
    if (at >= 0) {
      this.ring.splice(at, 1);
      if (at < this.start) this.start -= 1;
    }
    for (const item of queue) this.forget(item);
    return queue;
  }

  /** Moves one inferable item (with the markers before and right after it) into the batch; returns slots used. */
  private takeOne(queue: T[], batch: T[]): number {
    let used = 0;
    while (queue.length > 0) {
      const inferable = this.isInferable(queue[0]!);
      if (inferable && used === 1) break;
      const item = queue.shift()!;
      batch.push(item);
      this.forget(item);
      if (inferable) used = 1;
    }
    return used;
  }

  private releaseMarkers(streamId: string, batch: T[]): void {
    const queue = this.queues.get(streamId)!;
    while (queue.length > 0 && !this.isInferable(queue[0]!)) {
      const item = queue.shift()!;
      batch.push(item);
      this.forget(item);
    }
    if (queue.length === 0) this.remove(streamId);
  }

  /** The next batch starts with the first stream after `last` (in `order`, the rotation before this batch) that still waits. */
  private rotatePast(order: string[], last: string | undefined): void {
    if (this.ring.length === 0 || last === undefined) {
      this.start = this.ring.length === 0 ? 0 : this.start % this.ring.length;
      return;
    }
    const from = order.indexOf(last);
    for (let step = 1; step <= order.length; step += 1) {
      const at = this.ring.indexOf(order[(from + step) % order.length]!);
      if (at >= 0) {
        this.start = at;
        return;
      }
    }
    this.start = 0;
  }

  private forget(item: T): void {
    this.waiting -= 1;
    if (this.isInferable(item)) this.waitingInferable -= 1;
  }
}
