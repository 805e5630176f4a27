/**
 * Reader of the pipe protocol of the ingest decoder (posestream-decode). The layout is defined, byte by byte, in
 * workers/ingest/decoder/protocol.h; this file mirrors it and the two change together (PSD_VERSION). Pure: no
 * process or stream here, so split and merged chunks are unit-tested.
 */

import { frameBytes } from '../../pipeline/image/i420.js';

export const DECODER_PROTOCOL_VERSION = 1;
export const HEADER_BYTES = 12;
export const FRAME_HEADER_BYTES = 40;
const MAGIC = Buffer.from('PSD', 'latin1');
/** Larger than any frame the decoder can send (16384² RGB is 805 MB; 640-side frames are < 1.3 MB). */
const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

const MessageType = { frame: 1, eos: 2, error: 3, info: 4 } as const;

export const PixelFormat = { rgb: 1, i420: 2 } as const;
export type PixelFormatName = keyof typeof PixelFormat;

/** Error codes (enum psd_error). */
export const DecoderErrorCode = { gstreamer: 1, noVideo: 2, noDecoder: 3, usage: 4 } as const;

export interface DecodedFrame {
  /** Fitted size: what the pixels are. */
  width: number;
  height: number;
  /** The decoded frame before scaling. */
  sourceWidth: number;
  sourceHeight: number;
  format: PixelFormatName;
  /** Frames the fps cap dropped since the previous frame. */
  capDrops: number;
  /** Decoded frames dropped since the previous frame because ingest was behind (live mode). */
  behindDrops: number;
  /** Frames left undecoded since the previous frame (non-reference frames under an fps cap; 0 from older decoders). */
  skipDrops: number;
  /** Media time in ms (stream time, increasing across loops), undefined when the source has none. */
  ptsMs: number | undefined;
  /** The same media time in exact ns (the ingest record's source position; within 2^53 ns, ~104 days). */
  ptsNs: number | undefined;
  pixels: Buffer;
}

export type DecoderMessage =
  | { type: 'frame'; frame: DecodedFrame }
  | { type: 'eos' }
  | { type: 'error'; code: number; text: string }
  | { type: 'info'; text: string };

export class DecoderProtocolError extends Error {}

/** Pixel bytes of a frame, rows packed: RGB 3 per pixel; I420 a full Y plane and two ceil(w/2) x ceil(h/2) planes. */
export function framePixelBytes(format: PixelFormatName, width: number, height: number): number {
  return frameBytes(format === 'rgb' ? 'rgb24' : 'i420', width, height);
}

function formatName(code: number): PixelFormatName {
  const name = (Object.keys(PixelFormat) as PixelFormatName[]).find((key) => PixelFormat[key] === code);
  if (!name) throw new DecoderProtocolError(`unknown pixel format ${code}`);
  return name;
}

function parseFrameHeader(header: Buffer, payloadBytes: number): Omit<DecodedFrame, 'pixels'> {
  const width = header.readUInt32LE(0);
  const height = header.readUInt32LE(4);
  const format = formatName(header.readUInt32LE(16));
  const pts = header.readBigInt64LE(32);
  const expected = framePixelBytes(format, width, height);
  if (width === 0 || height === 0 || payloadBytes - FRAME_HEADER_BYTES !== expected) {
    throw new DecoderProtocolError(`frame ${width}x${height} ${format} with ${payloadBytes - FRAME_HEADER_BYTES} pixel bytes, expected ${expected}`);
  }
  return {
    width,
    height,
    sourceWidth: header.readUInt32LE(8),
    sourceHeight: header.readUInt32LE(12),
    format,
    capDrops: header.readUInt32LE(20),
    behindDrops: header.readUInt32LE(24),
    skipDrops: header.readUInt32LE(28),
    // Microsecond precision is plenty and keeps the JSON short.
    ptsMs: pts < 0n ? undefined : Number(pts / 1000n) / 1000,
    ptsNs: pts < 0n ? undefined : Number(pts),
  };
}

/**
 * Turns the decoder's byte stream, in chunks of any size, into messages. A frame's pixels are copied once, into
 * a Buffer of their own; headers split across chunks are reassembled. Throws DecoderProtocolError on bytes that
 * are not the protocol (the stream cannot be resynchronised after that).
 */
export class DecoderMessageParser {
  /** Bytes of a header (message or frame header) still being assembled. */
  private partial = Buffer.alloc(0);
  private message: { type: number; length: number } | undefined;
  private frame: { meta: Omit<DecodedFrame, 'pixels'>; pixels: Buffer; filled: number } | undefined;

  push(chunk: Buffer): DecoderMessage[] {
    const out: DecoderMessage[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (!this.message) {
        offset = this.fill(chunk, offset, HEADER_BYTES);
        if (this.partial.length === HEADER_BYTES) this.startMessage(out);
      } else if (this.message.type === MessageType.frame) {
        offset = this.continueFrame(chunk, offset, out);
      } else {
        offset = this.fill(chunk, offset, this.message.length);
        if (this.partial.length === this.message.length) this.finishSmallMessage(out);
      }
    }
    return out;
  }

  /** Copies up to `size` bytes into `partial`; returns the new offset in the chunk. */
  private fill(chunk: Buffer, offset: number, size: number): number {
    const take = Math.min(size - this.partial.length, chunk.length - offset);
    this.partial = Buffer.concat([this.partial, chunk.subarray(offset, offset + take)]);
    return offset + take;
  }

  private startMessage(out: DecoderMessage[]): void {
    const header = this.partial;
    this.partial = Buffer.alloc(0);
    if (!header.subarray(0, 3).equals(MAGIC)) throw new DecoderProtocolError('not a decoder message (bad magic)');
    if (header[3] !== DECODER_PROTOCOL_VERSION) {
      throw new DecoderProtocolError(`decoder protocol version ${header[3]}, expected ${DECODER_PROTOCOL_VERSION}: rebuild the decoder (scripts/setup.sh)`);
    }
    const type = header[4]!;
    const length = header.readUInt32LE(8);
    if (!Object.values(MessageType).includes(type as never)) throw new DecoderProtocolError(`unknown message type ${type}`);
    if (length > MAX_PAYLOAD_BYTES) throw new DecoderProtocolError(`message of ${length} bytes`);
    if (type === MessageType.frame && length < FRAME_HEADER_BYTES) throw new DecoderProtocolError(`frame message of ${length} bytes`);
    this.message = { type, length };
    if (type !== MessageType.frame && length === 0) this.finishSmallMessage(out);
  }

  private continueFrame(chunk: Buffer, offset: number, out: DecoderMessage[]): number {
    const { length } = this.message!;
    if (!this.frame) {
      offset = this.fill(chunk, offset, FRAME_HEADER_BYTES);
      if (this.partial.length < FRAME_HEADER_BYTES) return offset;
      const meta = parseFrameHeader(this.partial, length);
      this.partial = Buffer.alloc(0);
      this.frame = { meta, pixels: Buffer.allocUnsafeSlow(length - FRAME_HEADER_BYTES), filled: 0 };
    }
    const frame = this.frame;
    const take = Math.min(frame.pixels.length - frame.filled, chunk.length - offset);
    chunk.copy(frame.pixels, frame.filled, offset, offset + take);
    frame.filled += take;
    if (frame.filled === frame.pixels.length) {
      out.push({ type: 'frame', frame: { ...frame.meta, pixels: frame.pixels } });
      this.frame = undefined;
      this.message = undefined;
    }
    return offset + take;
  }

  private finishSmallMessage(out: DecoderMessage[]): void {
    const { type } = this.message!;
    const payload = this.partial;
    this.partial = Buffer.alloc(0);
    this.message = undefined;
    if (type === MessageType.eos) out.push({ type: 'eos' });
    else if (type === MessageType.info) out.push({ type: 'info', text: payload.toString('utf8') });
    else {
      if (payload.length < 4) throw new DecoderProtocolError('error message without a code');
      out.push({ type: 'error', code: payload.readUInt32LE(0), text: payload.subarray(4).toString('utf8') });
    }
  }
}
