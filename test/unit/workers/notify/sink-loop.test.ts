import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { NEW_EVENTS, type EventEntry } from '../../../../workers/notify/event-reader.js';
import type { EventDelivery, Sink } from '../../../../workers/notify/sink.js';
import { RETRY_PAUSE_MS, SinkLoop, type EventSource } from '../../../../workers/notify/sink-loop.js';
import { poseEvent } from '../../../support/pose-events.js';

/**
 * The loop's bookkeeping with a fake event source (a consumer group in memory: new entries, this consumer's
 * pending list, acks) and a sink the test settles by hand.
 */
class FakeGroup implements EventSource {
  private readonly log: EventEntry[] = [];
  private delivered = 0;
  readonly pending = new Set<string>();
  readonly reads: Array<Map<string, string>> = [];

  add(seq: number): string {
    const entryId = `${seq}-0`;
    this.log.push({ streamId: 'cam', entryId, event: poseEvent({ streamId: 'cam', type: 'posture', seq }) });
    return entryId;
  }

  async ensureGroup(): Promise<void> {}

  async read(cursors: ReadonlyMap<string, string>): Promise<{ entries: EventEntry[]; historyDone: string[] }> {
    this.reads.push(new Map(cursors));
    const cursor = cursors.get('cam')!;
    if (cursor === NEW_EVENTS) {
      const entries = this.log.slice(this.delivered);
      this.delivered = this.log.length;
      for (const entry of entries) this.pending.add(entry.entryId);
      if (entries.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      return { entries, historyDone: [] };
    }
    const after = cursor === '0' ? -1 : this.log.findIndex((e) => e.entryId === cursor);
    const entries = this.log.slice(after + 1).filter((e) => this.pending.has(e.entryId));
    return { entries, historyDone: entries.length === 0 ? ['cam'] : [] };
  }

  async ack(_streamId: string, entryIds: string[]): Promise<void> {
    for (const id of entryIds) this.pending.delete(id);
  }
}

class HandSink implements Sink {
  readonly kind = 'mqtt';
  readonly maxInFlight = 10;
  readonly deliveries: EventDelivery[] = [];
  ready(): boolean {
    return true;
  }
  deliver(delivery: EventDelivery): void {
    this.deliveries.push(delivery);
  }
  async close(): Promise<void> {}
}

async function until(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

let loop: SinkLoop | undefined;
afterEach(async () => {
  loop?.stop();
  await loop?.stopped();
});

function start(group: FakeGroup, sink: HandSink): SinkLoop {
  loop = new SinkLoop(group, sink, { streams: () => new Set(['cam']), logger: pino({ level: 'silent' }), blockMs: 20 });
  loop.start();
  return loop;
}

describe('SinkLoop', () => {
  it('re-delivers its own pending history first, then follows new events, acking what is settled', async () => {
    const group = new FakeGroup();
    group.add(1);
    group.pending.add('1-0'); // read by a previous run, never acknowledged
    group.add(2);
    const sink = new HandSink();
    start(group, sink);
    await until(() => sink.deliveries.length === 2);
    expect(group.reads[0]!.get('cam')).toBe('0');
    expect(sink.deliveries.map((d) => d.entryId)).toEqual(['1-0', '2-0']);
    sink.deliveries.forEach((d) => d.settle('delivered'));
    await until(() => group.pending.size === 0);
  });

  it('retries a delivery settled "retry" through the pending history, never one still in flight', async () => {
    const group = new FakeGroup();
    const sink = new HandSink();
    start(group, sink);
    await until(() => group.reads.length > 0);
    group.add(1);
    group.add(2);
    await until(() => sink.deliveries.length === 2);
    const settledAt = Date.now();
    sink.deliveries[0]!.settle('retry');
    await until(() => sink.deliveries.length === 3);
    expect(Date.now() - settledAt).toBeGreaterThanOrEqual(RETRY_PAUSE_MS - 50);
    // Entry 2 is pending too but still in flight: only entry 1 came back.
    expect(sink.deliveries.map((d) => d.entryId)).toEqual(['1-0', '2-0', '1-0']);
    sink.deliveries[1]!.settle('dropped');
    sink.deliveries[2]!.settle('delivered');
    await until(() => group.pending.size === 0);
    // A settled delivery cannot be settled again.
    sink.deliveries[0]!.settle('delivered');
    expect(loop!.pending).toBe(0);
  });

  it('stops reading while the sink has no room', async () => {
    const group = new FakeGroup();
    const sink = Object.assign(new HandSink(), { maxInFlight: 1 });
    start(group, sink);
    group.add(1);
    await until(() => sink.deliveries.length === 1);
    group.add(2);
    const readsBefore = group.reads.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(group.reads.length).toBe(readsBefore);
    sink.deliveries[0]!.settle('delivered');
    await until(() => sink.deliveries.length === 2);
  });
});
