import type { FrameDelivery } from '../../pipeline/redis/frame-stream.js';

/**
 * Frame entries this process holds (in the batcher or in flight): a second delivery of one (a claim racing a
 * read) is skipped, and a stream is handed back or re-synced only once none of its frames are held.
 */
export class HeldFrames {
  private readonly entries = new Set<string>();
  private readonly perStream = new Map<string, number>();

  /** False when the entry is already held. */
  take(delivery: FrameDelivery): boolean {
    const key = entryKey(delivery);
    if (this.entries.has(key)) return false;
    this.entries.add(key);
    this.perStream.set(delivery.streamId, this.count(delivery.streamId) + 1);
    return true;
  }

  settle(delivery: FrameDelivery): void {
    if (!this.entries.delete(entryKey(delivery))) return;
    const left = this.count(delivery.streamId) - 1;
    if (left > 0) this.perStream.set(delivery.streamId, left);
    else this.perStream.delete(delivery.streamId);
  }

  count(streamId: string): number {
    return this.perStream.get(streamId) ?? 0;
  }
}

const entryKey = (delivery: FrameDelivery) => `${delivery.streamId}\u0000${delivery.entryId}`;
