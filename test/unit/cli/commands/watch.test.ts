import { describe, expect, it } from 'vitest';
import { formatEventLine, formatResultLine, gatewayWsUrl } from '../../../../cli/commands/watch.js';
import { WIRE_VERSION, type PoseEvent, type PoseResult } from '../../../../pipeline/wire/v1.js';

describe('watch: gateway URL', () => {
  it('maps http(s) to ws(s) and adds /ws when no path is given', () => {
    expect(gatewayWsUrl('http://127.0.0.1:8080')).toBe('ws://127.0.0.1:8080/ws');
    expect(gatewayWsUrl('https://cams.example.org')).toBe('wss://cams.example.org/ws');
    expect(gatewayWsUrl('ws://h:1/custom')).toBe('ws://h:1/custom');
    expect(gatewayWsUrl('localhost:9000')).toBe('ws://localhost:9000/ws');
  });

  it('names a bad scheme', () => {
    expect(() => gatewayWsUrl('ftp://x')).toThrow(/unsupported scheme "ftp:"/);
  });
});

describe('watch: human line', () => {
  it('shows stream, seq, persons with scores, latency and the stage breakdown', () => {
    const result: PoseResult = {
      v: WIRE_VERSION, kind: 'pose', streamId: 'walking', seq: 12, captureTs: 1_000, sourceWidth: 1280, sourceHeight: 720,
      persons: [{ box: [0, 0, 1, 1], score: 0.912, keypoints: Array.from({ length: 17 }, () => [0, 0, 0] as [number, number, number]) }],
      timings: { decodeMs: 3.2, queueMs: 12.4, inferMs: 28, postMs: 1.6 }, worker: 'w', publishedTs: 1_048,
    };
    expect(formatResultLine(result)).toBe('walking #12  1 person (0.91)  latency 48 ms = decode 3 + queue 12 + infer 28 + post 2');
  });

  it('names tracked persons by their id, and a new one as new', () => {
    const keypoints = Array.from({ length: 17 }, () => [0, 0, 0] as [number, number, number]);
    const result: PoseResult = {
      v: WIRE_VERSION, kind: 'pose', streamId: 'walking', seq: 12, captureTs: 1_000, sourceWidth: 640, sourceHeight: 480,
      persons: [
        { box: [0, 0, 1, 1], score: 0.912, keypoints, trackId: 3, trackState: 'tracked', trackAgeMs: 400 },
        { box: [0, 0, 1, 1], score: 0.851, keypoints, trackState: 'tentative', trackAgeMs: 0 },
        { box: [0, 0, 1, 1], score: 0.3, keypoints },
      ],
      timings: { decodeMs: 3.2, queueMs: 12.4, inferMs: 28, postMs: 1.6, trackMs: 0.1 }, worker: 'w', publishedTs: 1_048,
    };
    expect(formatResultLine(result)).toBe('walking #12  3 persons (#3 0.91, new 0.85, 0.30)  latency 48 ms = decode 3 + queue 12 + infer 28 + post 2');
  });
});

describe('watch --events: human line', () => {
  const base: PoseEvent = {
    v: WIRE_VERSION, kind: 'event', id: 'hall:fall:3:790', streamId: 'hall', type: 'fall', trackId: 3, seq: 790, captureTs: 10_000,
    atSeq: 812, atCaptureTs: 11_500, confidence: 0.834, attributes: { drop: 0.65, downSec: 1 }, snapshot: true, publishedTs: 11_560,
  };

  it('shows type, track, decisive frame, onset and attributes', () => {
    expect(formatEventLine(base)).toBe('hall fall track 3 at #812 (from #790, 1.5 s) conf 0.83  drop=0.65 downSec=1  [snapshot]');
  });

  it('names the zone or the line and its direction', () => {
    expect(formatEventLine({ ...base, id: 'hall:occupancy:-:5:mat', type: 'occupancy', trackId: undefined, zone: 'mat', seq: 5, atSeq: 5, attributes: { count: 2, previous: 1 }, snapshot: false })).toBe(
      'hall occupancy zone mat at #5 conf 0.83  count=2 previous=1',
    );
    expect(formatEventLine({ ...base, type: 'line_cross', line: 'door', direction: 'left_to_right', seq: 9, atSeq: 9, attributes: {}, snapshot: false })).toBe(
      'hall line_cross track 3 line door left_to_right at #9 conf 0.83',
    );
  });
});
