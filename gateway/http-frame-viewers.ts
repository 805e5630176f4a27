/**
 * Annotated JPEGs for plain-HTTP viewers (MJPEG and snapshots): who is waiting for which stream, and the latest
 * annotated frame of each watched stream. Its interest is merged with the WebSocket hub's to decide which streams
 * get preview frames at all.
 */

export interface LatestFrame {
  jpeg: Buffer;
  seq: number;
  at: number;
}

type FrameListener = (frame: LatestFrame) => void;

export class HttpFrameViewers {
  private readonly latestByStream = new Map<string, LatestFrame>();
  private readonly listeners = new Map<string, Set<FrameListener>>();

  constructor(private readonly onInterestChanged: () => void) {}

  /** Registers a listener for the stream's annotated frames; returns its removal. */
  watch(streamId: string, listener: FrameListener): () => void {
    let set = this.listeners.get(streamId);
    const first = !set;
    if (!set) {
      set = new Set();
      this.listeners.set(streamId, set);
    }
    set.add(listener);
    if (first) this.onInterestChanged();
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(streamId) === set) {
        this.listeners.delete(streamId);
        this.latestByStream.delete(streamId);
        this.onInterestChanged();
      }
    };
  }

  watchedStreams(): string[] {
    return [...this.listeners.keys()];
  }

  latest(streamId: string): LatestFrame | undefined {
    return this.latestByStream.get(streamId);
  }

  publish(streamId: string, jpeg: Buffer, seq: number): void {
    const set = this.listeners.get(streamId);
    if (!set) return;
    const frame = { jpeg, seq, at: Date.now() };
    this.latestByStream.set(streamId, frame);
    for (const listener of set) listener(frame);
  }

  /** Resolves with the next annotated frame of the stream, or undefined after timeoutMs. */
  next(streamId: string, timeoutMs: number): Promise<LatestFrame | undefined> {
    return new Promise((resolve) => {
      const stop = this.watch(streamId, (frame) => {
        clearTimeout(timer);
        stop();
        resolve(frame);
      });
      const timer = setTimeout(() => {
        stop();
        resolve(undefined);
      }, timeoutMs);
    });
  }
}
