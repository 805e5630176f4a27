import { FrameScheduler } from './frame-scheduler.js';

/**
 * Gathers items from any streams into batches, latency first: while fewer than `maxInFlight` batches run, whatever
 * is ready goes out at once as one batch of up to `batchSize` (maxWaitMs 0, the default), so a lone camera's frame
 * is inferred the moment it arrives; when every slot is busy, frames wait here and the next free slot takes a fuller
 * batch, so under load batches fill by themselves and throughput follows. maxWaitMs > 0 holds a partial batch up to
 * that long for more frames (throughput over latency). Which frames a batch takes is the FrameScheduler's
 * round-robin across streams (no stream starves). Items that need no inference (end-of-stream markers) leave with
 * their stream's frame before them and take no slot, so each stream's items are handed on in arrival order.
 *
 * `maxQueuedFull` more batches may be in flight, full ones only: under full load a full batch waits in the engine
 * behind the busy requests, so a request never idles while its previous batch publishes (throughput), while a
 * partial batch never waits there (latency).
 *
 * `capacity` tells the reader how many more items it may take from Redis without this process holding more than
 * (maxInFlight + maxQueuedFull) * batchSize: frames wait in Redis (where live streams keep only the newest) rather
 * than here.
 */
export interface BatcherOptions<T> {
  batchSize: number;
  maxWaitMs: number;
  /** Batches in flight at most; a function when it changes at run time (AdaptiveEngine's requests follow its mode). */
  maxInFlight: number | (() => number);
  /** Extra batches in flight when they are full (default 0); a function when it changes at run time. */
  maxQueuedFull?: number | (() => number);
  /** Which stream an item belongs to (the unit of fairness and of ordering). */
  streamOf: (item: T) => string;
  /**
   * Runs one batch; the batch counts as in flight until the promise settles (results published). It holds an infer
   * slot until it calls `inferred` (its inference is over: the request is free while it publishes), or settles.
   */
  run: (batch: T[], inferred: () => void) => Promise<void>;
  /** false for items that ride along without taking a batch slot (end-of-stream markers). Default: all count. */
  isInferable?: (item: T) => boolean;
  /** Called when run() rejects; the batch is over either way. */
  onError?: (error: unknown, batch: T[]) => void;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export class Batcher<T> {
  private readonly waiting: FrameScheduler<T>;
  /** A partial batch is held (maxWaitMs > 0) until this timer fires. */
  private timer: unknown;
  private holdExpired = false;
  private flushing = false;
  /** Batches dispatched and not settled (inferring or publishing), and their items. */
  private running = 0;
  private runningItems = 0;
  /** Of those, batches still inferring (holding an infer slot), and their items. */
  private inferring = 0;
  private inferringItems = 0;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly capacityWaiters: Array<() => void> = [];
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly options: BatcherOptions<T>) {
    if (options.batchSize < 1 || this.maxInFlight() < 1) throw new RangeError('batchSize and maxInFlight must be >= 1');
    this.waiting = new FrameScheduler<T>({ streamOf: options.streamOf, ...(options.isInferable ? { isInferable: options.isInferable } : {}) });
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((handle) => clearTimeout(handle as NodeJS.Timeout));
  }

  /** Items held here (waiting + running). */
  get size(): number {
    return this.waiting.size + this.runningItems;
  }


  get inFlight(): number {
    return this.running;
  }

  /**
   * How many more items the caller may add before this process holds more than its bound (items waiting or
   * inferring; batches that are publishing are bounded by hasSlot()).
   */
  get capacity(): number {
    return Math.max(0, (this.maxInFlight() + this.maxQueuedFull()) * this.options.batchSize - this.waiting.size - this.inferringItems);
  }

  private maxInFlight(): number {
    return Math.max(1, valueOf(this.options.maxInFlight));
  }

  private maxQueuedFull(): number {
    return Math.max(0, valueOf(this.options.maxQueuedFull ?? 0));
  }

  add(item: T): void {
    this.waiting.add(item);
    this.pump();
  }

  /** Sends out what waits now, partial batches included (stop). */
  flush(): void {
    this.flushing = true;
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

  /** A batch may leave now: it is full, nothing asks to wait for more, or its wait is over. */
  private mayDispatch(): boolean {
    if (this.waiting.size === 0) return false;
    if (this.waiting.inferable === 0 || this.waiting.inferable >= this.options.batchSize) return true;
    return this.options.maxWaitMs <= 0 || this.holdExpired || this.flushing;
  }

  private pump(): void {
    while (this.hasSlot() && this.mayDispatch()) {
      this.dispatch(this.waiting.take(this.options.batchSize));
      this.holdExpired = false;
    }
    this.armHold();
  }

  /**
   * A request is free, or a full batch may wait in the engine behind the busy ones; and no more than maxInFlight
   * batches wait to publish (batches publish in dispatch order, so inference cannot run away from publishing).
   */
  private hasSlot(): boolean {
    const requests = this.maxInFlight();
    const queued = this.maxQueuedFull();
    if (this.running >= 2 * requests + queued) return false;
    if (this.inferring < requests) return true;
    return this.inferring < requests + queued && this.waiting.inferable >= this.options.batchSize;
  }

  /** maxWaitMs > 0: a partial batch waits at most that long from when it could have left. */
  private armHold(): void {
    const holding = this.options.maxWaitMs > 0 && this.waiting.inferable > 0 && this.inferring < this.maxInFlight();
    if (holding && this.timer === undefined) {
      this.timer = this.setTimer(() => {
        this.timer = undefined;
        this.holdExpired = true;
        this.pump();
      }, this.options.maxWaitMs);
    } else if (!holding && this.timer !== undefined) {
      this.clearTimer(this.timer);
      this.timer = undefined;
    }
  }

  private dispatch(batch: T[]): void {
    this.running += 1;
    this.runningItems += batch.length;
    this.inferring += 1;
    this.inferringItems += batch.length;
    let inferenceOver = false;
    const inferred = () => {
      if (inferenceOver) return;
      inferenceOver = true;
      this.inferring -= 1;
      this.inferringItems -= batch.length;
    };
    const freeSlot = () => {
      inferred();
      this.pump();
      this.notify();
    };
    let promise: Promise<void>;
    try {
      promise = this.options.run(batch, freeSlot);
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise
      .catch((error: unknown) => this.options.onError?.(error, batch))
      .finally(() => {
        inferred();
        this.running -= 1;
        this.runningItems -= batch.length;
        this.pump();
        this.notify();
      });
  }

  private notify(): void {
    if (this.capacity > 0) for (const wake of this.capacityWaiters.splice(0)) wake();
    if (this.size === 0) {
      this.flushing = false;
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }
}

function valueOf(option: number | (() => number)): number {
  return typeof option === 'number' ? option : option();
}
