/**
 * Gathers items from any streams into batches: a batch is dispatched when `batchSize` inferable items are waiting
 * or `maxWaitMs` after the first of them arrived, whichever comes first, and only while fewer than `maxInFlight`
 * batches are running. Items that need no inference (end-of-stream markers) travel in the batch they arrived in
 * and close it, so everything is handed on in arrival order.
 *
 * `capacity` tells the reader how many more items it may take from Redis without this process holding more than
 * maxInFlight * batchSize: frames wait in Redis (where live streams keep only the newest) rather than here.
 */
export interface BatcherOptions<T> {
  batchSize: number;
  maxWaitMs: number;
  maxInFlight: number;
  /** Runs one batch; the batch counts as in flight until the promise settles (results published). */
  run: (batch: T[]) => Promise<void>;
  /** false for items that ride along without taking a batch slot (end-of-stream markers). Default: all count. */
  isInferable?: (item: T) => boolean;
  /** Called when run() rejects; the batch is over either way. */
  onError?: (error: unknown, batch: T[]) => void;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export class Batcher<T> {
  private forming: T[] = [];
  private formingInferable = 0;
  /** Complete batches waiting for a free in-flight slot, oldest first. */
  private ready: T[][] = [];
  private timer: unknown;
  private running = 0;
  private runningItems = 0;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly capacityWaiters: Array<() => void> = [];
  private readonly isInferable: (item: T) => boolean;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly options: BatcherOptions<T>) {
    if (options.batchSize < 1 || options.maxInFlight < 1) throw new RangeError('batchSize and maxInFlight must be >= 1');
    this.isInferable = options.isInferable ?? (() => true);
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((handle) => clearTimeout(handle as NodeJS.Timeout));
  }

  /** Items held here (forming + ready + running). */
  get size(): number {
    return this.forming.length + this.ready.reduce((n, b) => n + b.length, 0) + this.runningItems;
  }

  get inFlight(): number {
    return this.running;
  }

  /** How many more items the caller may add before this process holds more than its bound. */
  get capacity(): number {
    return Math.max(0, this.options.maxInFlight * this.options.batchSize - this.size);
  }

  add(item: T): void {
    this.forming.push(item);
    if (!this.isInferable(item)) {
      this.closeForming();
    } else {
      this.formingInferable += 1;
      if (this.formingInferable >= this.options.batchSize) this.closeForming();
      else if (this.timer === undefined) this.timer = this.setTimer(() => this.onTimer(), this.options.maxWaitMs);
    }
    this.pump();
  }

  /** Closes the forming batch now (stop, or a stream's last frames before its end marker). */
  flush(): void {
    this.closeForming();
    this.pump();
  }

  /** Resolves when capacity > 0. */
  async whenCapacity(): Promise<void> {
    if (this.capacity > 0) return;
    await new Promise<void>((resolve) => this.capacityWaiters.push(resolve));
  }

  /** Flushes and resolves once every batch has run. */
  async drain(): Promise<void> {
    this.flush();
    if (this.size === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private onTimer(): void {
    this.timer = undefined;
    this.closeForming();
    this.pump();
  }

  private closeForming(): void {
    if (this.timer !== undefined) {
      this.clearTimer(this.timer);
      this.timer = undefined;
    }
    if (this.forming.length === 0) return;
    this.ready.push(this.forming);
    this.forming = [];
    this.formingInferable = 0;
  }

  private pump(): void {
    while (this.running < this.options.maxInFlight && this.ready.length > 0) {
      const batch = this.ready.shift()!;
      this.running += 1;
      this.runningItems += batch.length;
      let promise: Promise<void>;
      try {
        promise = this.options.run(batch);
      } catch (error) {
        promise = Promise.reject(error);
      }
      promise
        .catch((error: unknown) => this.options.onError?.(error, batch))
        .finally(() => {
          this.running -= 1;
          this.runningItems -= batch.length;
          this.pump();
          this.notify();
        });
    }
  }

  private notify(): void {
    if (this.capacity > 0) for (const wake of this.capacityWaiters.splice(0)) wake();
    if (this.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }
}
