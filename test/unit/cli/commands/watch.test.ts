import { describe, expect, it } from 'vitest';
import { formatResultLine, gatewayWsUrl } from '../../../../cli/commands/watch.js';
import { WIRE_VERSION, type PoseResult } from '../../../../pipeline/wire/v1.js';

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
});
