import { describe, expect, it } from 'vitest';
import {
  DecoderErrorCode,
  DecoderMessageParser,
  DecoderProtocolError,
  framePixelBytes,
  type DecoderMessage,
} from '../../../../workers/ingest/decoder-protocol.js';
import { describeDecoderError } from '../../../../workers/ingest/decoder-source.js';

/** Messages laid out as workers/ingest/decoder/protocol.h writes them (written here independently of the parser). */
function header(type: number, length: number, version = 1): Buffer {
  const bytes = Buffer.alloc(12);
  bytes.write('PSD', 0, 'latin1');
  bytes[3] = version;
  bytes[4] = type;
  bytes.writeUInt32LE(length, 8);
  return bytes;
}

function frameMessage(options: { width: number; height: number; sourceWidth: number; sourceHeight: number; format?: number; capDrops?: number; behindDrops?: number; skipDrops?: number; ptsNs?: bigint; fill?: number }): Buffer {
  const format = options.format ?? 1;
  const pixels = Buffer.alloc(framePixelBytes(format === 1 ? 'rgb' : 'i420', options.width, options.height), options.fill ?? 9);
  const meta = Buffer.alloc(40);
  meta.writeUInt32LE(options.width, 0);
  meta.writeUInt32LE(options.height, 4);
  meta.writeUInt32LE(options.sourceWidth, 8);
  meta.writeUInt32LE(options.sourceHeight, 12);
  meta.writeUInt32LE(format, 16);
  meta.writeUInt32LE(options.capDrops ?? 0, 20);
  meta.writeUInt32LE(options.skipDrops ?? 0, 28);
  meta.writeUInt32LE(options.behindDrops ?? 0, 24);
  meta.writeBigInt64LE(options.ptsNs ?? -1n, 32);
  return Buffer.concat([header(1, 40 + pixels.length), meta, pixels]);
}

const textMessage = (type: number, text: string, code?: number): Buffer => {
  const prefix = code === undefined ? Buffer.alloc(0) : Buffer.alloc(4);
  if (code !== undefined) prefix.writeUInt32LE(code, 0);
  const payload = Buffer.concat([prefix, Buffer.from(text, 'utf8')]);
  return Buffer.concat([header(type, payload.length), payload]);
};

const stream = Buffer.concat([
  textMessage(4, 'source 7x5 I420 -> 4x3 RGB'),
  frameMessage({ width: 4, height: 3, sourceWidth: 7, sourceHeight: 5, capDrops: 2, behindDrops: 1, skipDrops: 3, ptsNs: 33_333_333n, fill: 1 }),
  frameMessage({ width: 5, height: 3, sourceWidth: 10, sourceHeight: 6, ptsNs: 4_766_666_666n, fill: 2 }),
  header(2, 0),
]);

function parseInChunks(bytes: Buffer, sizes: (index: number) => number): DecoderMessage[] {
  const parser = new DecoderMessageParser();
  const messages: DecoderMessage[] = [];
  for (let offset = 0, index = 0; offset < bytes.length; index += 1) {
    const size = Math.max(1, sizes(index));
    messages.push(...parser.push(bytes.subarray(offset, offset + size)));
    offset += size;
  }
  return messages;
}

describe('DecoderMessageParser', () => {
  const expected: DecoderMessage[] = [
    { type: 'info', text: 'source 7x5 I420 -> 4x3 RGB' },
    { type: 'frame', frame: { width: 4, height: 3, sourceWidth: 7, sourceHeight: 5, format: 'rgb', capDrops: 2, behindDrops: 1, skipDrops: 3, ptsMs: 33.333, ptsNs: 33_333_333, pixels: Buffer.alloc(36, 1) } },
    { type: 'frame', frame: { width: 5, height: 3, sourceWidth: 10, sourceHeight: 6, format: 'rgb', capDrops: 0, behindDrops: 0, skipDrops: 0, ptsMs: 4766.666, ptsNs: 4_766_666_666, pixels: Buffer.alloc(45, 2) } },
    { type: 'eos' },
  ];

  it('reads merged messages from one chunk', () => {
    expect(parseInChunks(stream, () => stream.length)).toEqual(expected);
  });

  it('reads messages split at every possible byte, and in uneven chunks', () => {
    expect(parseInChunks(stream, () => 1)).toEqual(expected);
    for (const size of [2, 3, 7, 11, 12, 13, 40, 52, 53, 64]) expect(parseInChunks(stream, () => size)).toEqual(expected);
    expect(parseInChunks(stream, (index) => [5, 1, 30, 2, 17][index % 5]!)).toEqual(expected);
  });

  it('gives each frame its own pixel buffer (later chunks never overwrite an earlier frame)', () => {
    const [, first, second] = parseInChunks(stream, () => 16) as Array<Extract<DecoderMessage, { type: 'frame' }>>;
    expect(first!.frame.pixels.buffer).not.toBe(second!.frame.pixels.buffer);
    expect(first!.frame.pixels.every((byte) => byte === 1)).toBe(true);
  });

  it('reads errors with their code, and I420 frames with their three planes', () => {
    const bytes = Buffer.concat([frameMessage({ width: 5, height: 3, sourceWidth: 5, sourceHeight: 3, format: 2 }), textMessage(3, 'Resource not found (source)', 1)]);
    const [frame, error] = parseInChunks(bytes, () => 4);
    expect(frame).toMatchObject({ type: 'frame', frame: { format: 'i420', ptsMs: undefined } });
    expect((frame as Extract<DecoderMessage, { type: 'frame' }>).frame.pixels.length).toBe(15 + 2 * 3 * 2);
    expect(error).toEqual({ type: 'error', code: 1, text: 'Resource not found (source)' });
  });

  it('rejects bytes that are not the protocol, another version, or a frame whose size does not add up', () => {
    expect(() => new DecoderMessageParser().push(Buffer.from('GStreamer-WARNING: ...\n'))).toThrow(DecoderProtocolError);
    expect(() => new DecoderMessageParser().push(header(2, 0, 2))).toThrow(/version 2, expected 1: rebuild the decoder/);
    const bad = frameMessage({ width: 4, height: 3, sourceWidth: 4, sourceHeight: 3 });
    bad.writeUInt32LE(5, 12); // width 5 no longer matches 36 pixel bytes
    expect(() => new DecoderMessageParser().push(bad)).toThrow(/frame 5x3 rgb with 36 pixel bytes, expected 45/);
    expect(() => new DecoderMessageParser().push(header(9, 0))).toThrow(/unknown message type 9/);
  });
});

describe('describeDecoderError', () => {
  it('names the stream by the URL the user gave, without its password', () => {
    expect(describeDecoderError(DecoderErrorCode.noVideo, 'audio/mpeg', './clips/song.m4a')).toBe('no video stream in ./clips/song.m4a');
    expect(describeDecoderError(DecoderErrorCode.noVideo, 'audio', 'rtsp://admin:Pa55word@cam/x')).toBe('no video stream in rtsp://admin:***@cam/x');
  });

  it('says which decoder is missing; passes GStreamer errors through', () => {
    expect(describeDecoderError(DecoderErrorCode.noDecoder, 'video/x-h265', '/a.mp4')).toMatch(/^no decoder for video\/x-h265 in this GStreamer installation/);
    expect(describeDecoderError(DecoderErrorCode.gstreamer, 'Resource not found (source)', '/a.mp4')).toBe('Resource not found (source)');
  });
});
