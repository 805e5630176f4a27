/**
 * A FIFO with a hard bound and a named drop policy, for events waiting for one webhook endpoint:
 *  - drop-oldest: a new item evicts the oldest waiting one (a stuck endpoint gets the most recent events first);
 *  - drop-newest: a new item is refused while the queue is full (the backlog is kept and delivered in order).
 * Whatever is dropped is returned to the caller, which settles and counts it.
 */
export type DropPolicy = 'drop-oldest' | 'drop-newest';

export type OfferOutcome<T> = { queued: true; evicted?: T } | { queued: false };

export class BoundedQueue<T> {
  private readonly items: T[] = [];

  constructor(
    readonly limit: number,
    readonly policy: DropPolicy,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('queue limit must be a positive integer');
  }

  get length(): number {
    return this.items.length;
  }

  offer(item: T): OfferOutcome<T> {
    if (this.items.length < this.limit) {
      this.items.push(item);
      return { queued: true };
    }
    if (this.policy === 'drop-newest') return { queued: false };
    const evicted = this.items.shift()!;
    this.items.push(item);
    return { queued: true, evicted };
  }

  shift(): T | undefined {
    return this.items.shift();
  }

  /** Empties the queue, returning what was waiting (on stop). */
  drain(): T[] {
    return this.items.splice(0);
  }
}
