import { describe, expect, it } from 'vitest';
import { BoundedQueue } from '../../../../../workers/notify/webhook/bounded-queue.js';

describe('BoundedQueue', () => {
  it('drop-oldest: a new item evicts the oldest and is queued', () => {
    const queue = new BoundedQueue<number>(2, 'drop-oldest');
    expect(queue.offer(1)).toEqual({ queued: true });
    expect(queue.offer(2)).toEqual({ queued: true });
    expect(queue.offer(3)).toEqual({ queued: true, evicted: 1 });
    expect(queue.length).toBe(2);
    expect([queue.shift(), queue.shift(), queue.shift()]).toEqual([2, 3, undefined]);
  });

  it('drop-newest: a new item is refused while full, the backlog stays in order', () => {
    const queue = new BoundedQueue<number>(2, 'drop-newest');
    queue.offer(1);
    queue.offer(2);
    expect(queue.offer(3)).toEqual({ queued: false });
    expect(queue.drain()).toEqual([1, 2]);
    expect(queue.length).toBe(0);
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new BoundedQueue(0, 'drop-oldest')).toThrow(RangeError);
  });
});
