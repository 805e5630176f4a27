import { describe, expect, it } from 'vitest';
import type { StagedResult, StreamCommit } from '../../../../pipeline/stages/result-stage.js';
import type { StreamConfig, StreamDefinitions } from '../../../../pipeline/streams/definition.js';
import { streamSchema } from '../../../../pipeline/streams/definition.js';
import { TrackingStage } from '../../../../pipeline/tracking/tracking-stage.js';
import { WIRE_VERSION, type FrameMeta, type PoseResult } from '../../../../pipeline/wire/v1.js';
import { person } from './synthetic.js';

class Definitions implements StreamDefinitions {
  streams = new Map<string, StreamConfig>();
  set(id: string, extra: Record<string, unknown> = {}): void {
    this.streams.set(id, streamSchema.parse({ id, url: 'test://ball', ...extra }));
  }
  definition(id: string): StreamConfig | undefined {
    return this.streams.get(id);
  }
}

const commit: StreamCommit = { streamId: 's', add: () => undefined };

/** Frame i of stream s: two walkers, 25 fps media time. */
function staged(i: number, streamId = 's'): StagedResult {
  const result: PoseResult = {
    v: WIRE_VERSION, kind: 'pose', streamId, seq: i, captureTs: 1_700_000_000_000 + i * 40, ptsMs: i * 40,
    sourceWidth: 640, sourceHeight: 480,
    persons: [person({ cx: 100 + 3 * i, cy: 240, h: 200 }), person({ cx: 500 - 3 * i, cy: 240, h: 180 })],
    timings: { decodeMs: 1, queueMs: 1, inferMs: 1, postMs: 1 }, worker: 'w', publishedTs: 0,
  };
  const meta = { v: WIRE_VERSION, streamId, seq: i, captureTs: 0, publishTs: 0, decodeMs: 0, width: 640, height: 480, sourceWidth: 640, sourceHeight: 480, format: 'rgb24' } as FrameMeta;
  return { result, frame: { meta, pixels: Buffer.alloc(0) } };
}

function trackIds(batch: StagedResult[]): Array<Array<number | undefined>> {
  return batch.map((s) => s.result.persons.map((p) => p.trackId));
}

function batches(from: number, to: number, streamId = 's'): StagedResult[] {
  return Array.from({ length: to - from }, (_, k) => staged(from + k, streamId));
}

describe('TrackingStage', () => {
  it('adds track fields to tracked persons and the time it took to the timings', () => {
    const definitions = new Definitions();
    definitions.set('s');
    const stage = new TrackingStage(definitions);
    stage.acquire('s', undefined);
    const batch = batches(0, 3);
    stage.process(batch, commit);
    expect(trackIds(batch)).toEqual([[1, 2], [1, 2], [1, 2]]);
    expect(batch[2]!.result.persons[0]).toMatchObject({ trackId: 1, trackState: 'tracked', trackAgeMs: 80 });
    expect(batch[0]!.result.timings.trackMs).toBeGreaterThanOrEqual(0);
  });

  it('continues with the same ids on another worker from the committed state', () => {
    const definitions = new Definitions();
    definitions.set('s', { tracking: { smoothing: { enabled: true } } });
    const alone = new TrackingStage(definitions);
    alone.acquire('s', undefined);
    const first = new TrackingStage(definitions);
    first.acquire('s', undefined);
    for (let i = 0; i < 30; i += 5) {
      alone.process(batches(i, i + 5), commit);
      first.process(batches(i, i + 5), commit);
    }
    const saved = first.save('s')!;
    first.release('s');
    const second = new TrackingStage(definitions);
    second.acquire('s', saved);
    const expected = batches(30, 60);
    const handedOver = batches(30, 60);
    alone.process(expected, commit);
    second.process(handedOver, commit);
    expect(handedOver.map((s) => s.result.persons)).toEqual(expected.map((s) => s.result.persons));
    expect(second.save('s')).toEqual(alone.save('s'));
  });

  it('leaves persons alone when tracking is off, and goes on counting ids when it is on again', () => {
    const definitions = new Definitions();
    definitions.set('s');
    const stage = new TrackingStage(definitions);
    stage.acquire('s', undefined);
    stage.process(batches(0, 2), commit);
    definitions.set('s', { tracking: { enabled: false } });
    const off = batches(2, 4);
    stage.process(off, commit);
    expect(off[1]!.result.persons[0]).not.toHaveProperty('trackId');
    expect(off[1]!.result.persons[0]).not.toHaveProperty('trackState');
    expect(off[1]!.result.timings).not.toHaveProperty('trackMs');
    definitions.set('s');
    const on = batches(4, 6);
    stage.process(on, commit);
    expect(trackIds(on)).toEqual([[3, 4], [3, 4]]);
  });

  it('applies changed settings to the running tracks without changing their ids', () => {
    const definitions = new Definitions();
    definitions.set('s');
    const stage = new TrackingStage(definitions);
    stage.acquire('s', undefined);
    stage.process(batches(0, 5), commit);
    definitions.set('s', { tracking: { lostTimeoutSec: 3, smoothing: { enabled: true } } });
    const batch = batches(5, 7);
    stage.process(batch, commit);
    expect(trackIds(batch)).toEqual([[1, 2], [1, 2]]);
    expect(batch[1]!.result.persons[0]!.smoothedKeypoints).toHaveLength(17);
  });

  it('never reuses ids: not after an end-of-stream, not after an unreadable saved state', () => {
    const definitions = new Definitions();
    definitions.set('s');
    const stage = new TrackingStage(definitions);
    stage.acquire('s', undefined);
    stage.process(batches(0, 3), commit);
    stage.endOfStream({ v: WIRE_VERSION, kind: 'eos', streamId: 's', lastSeq: 2, reason: 'eof', publishedTs: 0 }, commit);
    const rerun = batches(0, 2);
    stage.process(rerun, commit);
    expect(trackIds(rerun)).toEqual([[3, 4], [3, 4]]);

    const broken = JSON.stringify({ ...JSON.parse(stage.save('s')!), tracks: 'garbage' });
    const next = new TrackingStage(definitions);
    next.acquire('s', broken);
    const after = batches(10, 12);
    next.process(after, commit);
    expect(trackIds(after)).toEqual([[5, 6], [5, 6]]);
    next.acquire('s', 'not json');
    const fresh = batches(20, 21);
    next.process(fresh, commit);
    expect(trackIds(fresh)).toEqual([[1, 2]]);
  });

  it('tracks an unknown stream (no definition yet) with the defaults, and keeps streams apart', () => {
    const stage = new TrackingStage(new Definitions());
    stage.acquire('a', undefined);
    stage.acquire('b', undefined);
    const a = batches(0, 2, 'a');
    const b = batches(0, 2, 'b');
    stage.process(a, commit);
    stage.process(b, commit);
    expect(trackIds(a)).toEqual([[1, 2], [1, 2]]);
    expect(trackIds(b)).toEqual([[1, 2], [1, 2]]);
  });
});
