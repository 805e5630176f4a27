import { WIRE_VERSION, type FrameMeta, type PoseResult } from '../../pipeline/wire/v1.js';

/** A small frame (4x2 of an 8x4 source, seq 7 of cam1) and its pose result, for codec and publisher tests. */
export const sampleMeta: FrameMeta = {
  v: WIRE_VERSION, streamId: 'cam1', seq: 7, captureTs: 1000, publishTs: 1005, decodeMs: 3,
  width: 4, height: 2, sourceWidth: 8, sourceHeight: 4, format: 'rgb24',
};

export const sampleResult: PoseResult = {
  v: WIRE_VERSION, kind: 'pose', streamId: 'cam1', seq: 7, captureTs: 1000, sourceWidth: 8, sourceHeight: 4,
  persons: [], timings: { decodeMs: 3, queueMs: 1, inferMs: 10, postMs: 1 }, worker: 'w1', publishedTs: 1020,
};
