/**
 * Push on one side, `for await` on the other: what a subscription delivers waits here until the consumer takes it.
 * Bounded: a consumer that falls `limit` items behind ends the iteration with an error rather than let memory grow
 * (results arrive at the stream's frame rate whether or not anyone reads them).
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private readonly waiting: Array<{ resolve: (result: IteratorResult<T>) => void; reject: (error: Error) => void }> = [];
  private ended = false;
  private failure: Error | undefined;

  constructor(
    private readonly limit: number,
    /** Called once when the consumer stops (break, return) or the queue ends: release the subscription. */
    private readonly onStop: () => void = () => undefined,
  ) {}

  push(item: T): void {
    if (this.ended) return;
    const waiter = this.waiting.shift();
    if (waiter) {
      waiter.resolve({ value: item, done: false });
      return;
    }
    this.items.push(item);
    if (this.items.length > this.limit) this.end(new Error(`the consumer fell ${this.limit} messages behind; iteration stopped`));
  }

  /** No more items: the consumer gets what is buffered, then done (or `error`). */
  end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    if (error) this.items.length = 0;
    for (const waiter of this.waiting.splice(0)) {
      if (error) waiter.reject(error);
      else waiter.resolve({ value: undefined, done: true });
    }
    this.onStop();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.ended) return this.failure ? Promise.reject(this.failure) : Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
