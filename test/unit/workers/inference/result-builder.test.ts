import { describe, expect, it } from 'vitest';
import { endOfStreamSchema, poseResultSchema, WIRE_VERSION, type FrameMeta } from '../../../../pipeline/wire/v1.js';
import { buildEndOfStream, buildPoseResult, SeqGuard } from '../../../../workers/inference/result-builder.js';

const meta: FrameMeta = {
  v: WIRE_VERSION, streamId: 'cam1', seq: 3, captureTs: 1_000, publishTs: 1_010, decodeMs: 4,
  width: 640, height: 360, sourceWidth: 1280, sourceHeight: 720, format: 'rgb24',
};

describe('result builders', () => {
  it('builds a valid PoseResult with the queue time from publish to inference start', () => {
    const result = buildPoseResult(meta, [], { inferStartTs: 1_030, inferMs: 12, postMs: 2 }, 'w1', 1_050);
    expect(poseResultSchema.parse(result)).toEqual(result);
    expect(result.timings).toEqual({ decodeMs: 4, queueMs: 20, inferMs: 12, postMs: 2 });
    expect(result.seq).toBe(3);
  });

  it('never reports a negative queue time from clock skew', () => {
    expect(buildPoseResult(meta, [], { inferStartTs: 1_000, inferMs: 1, postMs: 1 }, 'w1', 1).timings.queueMs).toBe(0);
  });

  it('builds a valid EndOfStream', () => {
    const eos = buildEndOfStream({ v: WIRE_VERSION, kind: 'eos', streamId: 'cam1', lastSeq: 143, reason: 'eof' }, 5);
    expect(endOfStreamSchema.parse(eos)).toEqual(eos);
  });
});

describe('SeqGuard', () => {
  it('flags redeliveries and overtaken frames, accepts newer ones and restarted sequences', () => {
    const guard = new SeqGuard();
    expect(guard.isBehind(meta)).toBe(false);
    guard.advance(meta);
    expect(guard.isBehind(meta)).toBe(true);
    expect(guard.isBehind({ ...meta, seq: 2, captureTs: 900 })).toBe(true);
    expect(guard.isBehind({ ...meta, seq: 4, captureTs: 1_033 })).toBe(false);
    expect(guard.isBehind({ ...meta, seq: 0, captureTs: 50_000 })).toBe(false);
    guard.reset('cam1');
    expect(guard.isBehind(meta)).toBe(false);
  });
});
