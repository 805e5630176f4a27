import { describe, expect, it } from 'vitest';
import {
  autoclaimReply,
  compareEntryIds,
  decodeFrameFields,
  decodePoseEventFields,
  decodePreviewFields,
  decodeRegistryEvent,
  encodeFrameEndFields,
  encodeFrameFields,
  encodePoseEventFields,
  encodeRegistryEventFields,
  entrySeq,
  replyRecord,
  streamReadReply,
  workerUtilisation,
  workerOverCapacity,
  encodeWorkerInfo,
  takeNewestReply,
} from '../../../../pipeline/redis/codec.js';
import { WIRE_VERSION } from '../../../../pipeline/wire/v1.js';
import { sampleMeta, sampleResult } from '../../../support/wire-samples.js';

const meta = sampleMeta;
const result = sampleResult;
const asBuffers = (fields: Array<string | Buffer>) => fields.map((f) => (Buffer.isBuffer(f) ? f : Buffer.from(f)));

describe('reply shapes', () => {
  it('reads XREAD replies in RESP2 form and in the flattened RESP3 map form alike', () => {
    const entries = [['1-0', ['r', 'x']]];
    const expected = [{ key: 'k', entries: [{ id: '1-0', fields: ['r', 'x'] }] }];
    expect(streamReadReply([['k', entries]])).toEqual(expected);
    expect(streamReadReply(['k', entries])).toEqual(expected);
    expect(streamReadReply(new Map([['k', entries]]))).toEqual(expected);
    expect(streamReadReply(null)).toEqual([]);
  });

  it('keeps deleted entries of XAUTOCLAIM as null fields and refuses a reply of another shape', () => {
    expect(autoclaimReply(['0-0', [['1-0', null], ['2-0', ['m', '{}']]], []])).toEqual({ cursor: '0-0', entries: [{ id: '1-0', fields: null }, { id: '2-0', fields: ['m', '{}'] }] });
    expect(() => autoclaimReply('OK')).toThrow(/unexpected XAUTOCLAIM reply/);
  });

  it('turns map replies of either protocol into records (XINFO, HGETALL, worker heartbeats)', () => {
    expect(replyRecord(['entries-added', 5, 'length', 2])).toEqual({ 'entries-added': 5, length: 2 });
    expect(replyRecord({ a: '1' })).toEqual({ a: '1' });
    expect(workerUtilisation({ utilisation: '0.500' })).toBe(0.5);
    expect(workerUtilisation(['utilization', '0.25'])).toBe(0.25);
    expect(workerUtilisation({})).toBeUndefined();
  });

  it('reads a worker\'s over-capacity flag from its info hash (absent from older workers)', () => {
    const info = { processId: 'w', host: 'h', pid: 1, streams: [], utilisation: 1, inFlightBatches: 2, heldFrames: 8, workers: 1, ts: 0 };
    expect(workerOverCapacity(encodeWorkerInfo({ ...info, overCapacity: true }))).toBe(1);
    expect(workerOverCapacity(Object.entries(encodeWorkerInfo({ ...info, overCapacity: false })).flat())).toBe(0);
    expect(workerOverCapacity(encodeWorkerInfo(info))).toBeUndefined();
  });

  it('reads take-newest replies: the kept entries and the count of dropped frames', () => {
    expect(takeNewestReply([[['3-0', ['m', '{}']]], 2])).toEqual({ entries: [{ id: '3-0', fields: ['m', '{}'] }], dropped: 2 });
    expect(takeNewestReply([[], 0])).toEqual({ entries: [], dropped: 0 });
    expect(() => takeNewestReply(null)).toThrow(/take-newest/);
  });
});

describe('frame entries', () => {
  it('round-trip frames and end markers', () => {
    const pixels = Buffer.alloc(24, 3);
    expect(decodeFrameFields(asBuffers(encodeFrameFields(meta, pixels)))).toEqual({ kind: 'frame', meta, pixels });
    const end = { v: WIRE_VERSION, kind: 'eos', streamId: 'cam1', lastSeq: 7, reason: 'eof' } as const;
    expect(decodeFrameFields(asBuffers(encodeFrameEndFields(end)))).toEqual({ kind: 'eos', end });
    expect(() => decodeFrameFields(asBuffers(encodeFrameFields(meta, Buffer.alloc(5))))).toThrow(/5 pixel bytes, expected 24/);
  });

  it('carry the pixel format: I420 frames are sized by their planes, entries without a format are RGB24', () => {
    // 4x2 I420: 8 luma + 2 x (2x1) chroma bytes.
    const i420 = { ...meta, format: 'i420' as const };
    const pixels = Buffer.alloc(12, 5);
    expect(decodeFrameFields(asBuffers(encodeFrameFields(i420, pixels)))).toEqual({ kind: 'frame', meta: i420, pixels });
    expect(() => decodeFrameFields(asBuffers(encodeFrameFields(i420, Buffer.alloc(24))))).toThrow(/24 pixel bytes, expected 12/);
    const { format: _format, ...legacy } = meta;
    const old = ['m', JSON.stringify({ ...legacy, kind: 'frame' }), 'px', Buffer.alloc(24, 3)];
    expect(decodeFrameFields(asBuffers(old))).toMatchObject({ kind: 'frame', meta: { format: 'rgb24' } });
  });

  it('tell the seq a frames or results entry stands for', () => {
    expect(entrySeq(['m', JSON.stringify({ seq: 4 })])).toBe(4);
    expect(entrySeq(['r', JSON.stringify({ kind: 'eos', lastSeq: 9 })])).toBe(9);
    expect(entrySeq(['r', '{nope'])).toBeUndefined();
  });
});

describe('registry events', () => {
  it('round-trip and ignore what they do not know', () => {
    const event = { v: WIRE_VERSION, kind: 'stream-changed', streamId: 'a', change: 'added', ts: 1 } as const;
    expect(decodeRegistryEvent(encodeRegistryEventFields(event))).toEqual(event);
    expect(decodeRegistryEvent(['e', '{"kind":"zone-added"}'])).toBeUndefined();
    expect(decodeRegistryEvent(null)).toBeUndefined();
  });
});

describe('decodePreviewFields', () => {
  const fields = (overrides: Record<string, string | Buffer> = {}) => {
    const values: Record<string, string | Buffer> = { r: JSON.stringify(result), m: JSON.stringify(meta), px: Buffer.alloc(24, 1), ...overrides };
    return Object.entries(values).flatMap(([k, v]) => [Buffer.from(k), Buffer.isBuffer(v) ? v : Buffer.from(v)]);
  };

  it('round-trips result, meta and pixels', () => {
    const decoded = decodePreviewFields(fields());
    expect(decoded.result).toEqual(result);
    expect(decoded.meta).toEqual(meta);
    expect(decoded.pixels.length).toBe(24);
  });

  it('rejects a pixel buffer of the wrong size', () => {
    expect(() => decodePreviewFields(fields({ px: Buffer.alloc(10) }))).toThrow(/10 pixel bytes, expected 24/);
  });

  it('rejects a missing field and a result paired with another frame', () => {
    const withoutMeta = fields().slice(0, 2).concat(fields().slice(4));
    expect(() => decodePreviewFields(withoutMeta)).toThrow(/field "m"/);
    expect(() => decodePreviewFields(fields({ m: JSON.stringify({ ...meta, seq: 8 }) }))).toThrow(/paired with frame #8/);
  });
});

describe('pose event entries', () => {
  const event = {
    v: WIRE_VERSION, kind: 'event' as const, id: 'cam1:fall:3:120', streamId: 'cam1', type: 'fall' as const, trackId: 3, seq: 120,
    captureTs: 1000, atSeq: 130, atCaptureTs: 1400, confidence: 0.9, attributes: { torsoAngle: 80 }, snapshot: true, publishedTs: 1500,
  };

  it('round-trip and refuse what does not match the schema', () => {
    expect(decodePoseEventFields(encodePoseEventFields(event))).toEqual(event);
    expect(() => encodePoseEventFields({ ...event, confidence: 2 })).toThrow();
    expect(() => decodePoseEventFields(['e', JSON.stringify({ ...event, type: 'jump' })])).toThrow();
    expect(() => decodePoseEventFields(['r', '{}'])).toThrow(/field "e"/);
  });
});

describe('compareEntryIds', () => {
  it('orders numerically, not as strings', () => {
    expect(compareEntryIds('9-0', '10-0')).toBe(-1);
    expect(compareEntryIds('10-2', '10-10')).toBe(-1);
    expect(compareEntryIds('10-10', '10-10')).toBe(0);
    expect(compareEntryIds('1795749908620-1', '1795749908620-0')).toBe(1);
  });
});

describe('stored results are rounded', () => {
  it('keeps coordinates to 0.1 px, scores to 3 decimals, timings to 0.01 ms', async () => {
    const { encodeResultEntry } = await import('../../../../pipeline/redis/codec.js');
    const { sampleResult } = await import('../../../support/wire-samples.js');
    const kp = Array.from({ length: 17 }, () => [12.3456, 78.9012, 0.987654] as [number, number, number]);
    const result = {
      ...sampleResult,
      captureTs: 1000.4,
      timings: { ...sampleResult.timings, inferMs: 10.12345 },
      persons: [{ box: [1.26, 2.24, 3.35, 4.44] as [number, number, number, number], score: 0.98765, keypoints: kp, smoothedKeypoints: kp }],
    };
    const stored = JSON.parse(encodeResultEntry(result).result[1]!);
    expect(stored.captureTs).toBe(1000);
    expect(stored.timings.inferMs).toBe(10.12);
    expect(stored.persons[0].box).toEqual([1.3, 2.2, 3.4, 4.4]);
    expect(stored.persons[0].score).toBe(0.988);
    expect(stored.persons[0].keypoints[0]).toEqual([12.3, 78.9, 0.988]);
    expect(stored.persons[0].smoothedKeypoints[16]).toEqual([12.3, 78.9, 0.988]);
  });
});
