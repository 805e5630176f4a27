/**
 * A live camera capped well below its rate leaves non-reference frames undecoded (workers/ingest/decoder/
 * skip-nonref.h): real RTSP server (cli/bench/rtsp-server.ts), real decoder process. The stream still delivers its
 * capped rate, and the frames left undecoded are counted apart from the cap's; a camera without B-frames skips none.
 * What skipping saves in CPU is a benchmark (test/bench/decode-skip.bench.ts), not a timed test.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { killRtspServer, launchRtspServer, type RtspServerProcess } from '../../cli/bench/rtsp-server.js';
import { DecoderMessageParser } from '../../workers/ingest/decoder-protocol.js';
import { DECODER_PATH, DecoderFrameSource } from '../../workers/ingest/decoder-source.js';
import { decoderArgs, describeSource } from '../../workers/ingest/launch-string.js';
import { skipWithout } from '../support/assets.js';
import { bFramesAnnexBClip } from '../support/media.js';
import { annexBClip } from '../support/rtsp-server.js';

const CAP_FPS = 5;
const SOURCE_FPS = 30;
const SECONDS = 6;
let server: RtspServerProcess | undefined;
let source: DecoderFrameSource | undefined;

afterEach(async () => {
  source?.close();
  source = undefined;
  if (server) await killRtspServer(server.child);
  server = undefined;
});

/** SECONDS of a capped live camera serving `h264`, as ingest pulls it (one request per frame). */
async function capturedFor(h264: string) {
  server = await launchRtspServer(h264, { fps: SOURCE_FPS });
  const infos: string[] = [];
  source = new DecoderFrameSource(`rtsp://127.0.0.1:${server.port}/stream`, { inputSize: 640, mode: 'live', fps: CAP_FPS, onInfo: (text) => infos.push(text) });
  await source.open();
  const counts = { frames: 0, capDrops: 0, skipDrops: 0 };
  let first = 0;
  let last = 0;
  for (;;) {
    const event = await source.next();
    if (event.kind !== 'frame') throw new Error(`the camera stopped: ${JSON.stringify(event)}`);
    last = Date.now();
    if (!first) {
      first = last; // drops before the first frame belong to the start-up, not to the window
      continue;
    }
    counts.frames += 1;
    counts.capDrops += event.capDrops;
    counts.skipDrops += event.skipDrops ?? 0;
    if (last - first >= SECONDS * 1000) break;
  }
  return { ...counts, fps: counts.frames / ((last - first) / 1000), infos };
}

describe.skipIf(skipWithout('walkingVideo'))('a live camera capped well below its rate', () => {
  it('with B-frames: delivers its capped fps, its non-reference frames undecoded and counted apart from the cap drops', { timeout: 60_000 }, async () => {
    const run = await capturedFor(bFramesAnnexBClip());
    console.info(`B-frames, cap ${CAP_FPS} fps: ${JSON.stringify(run)}`);
    expect(run.fps).toBeGreaterThan(CAP_FPS * 0.85);
    expect(run.fps).toBeLessThan(CAP_FPS * 1.1);
    const seen = run.frames + run.capDrops + run.skipDrops;
    expect(seen).toBeGreaterThan(SOURCE_FPS * SECONDS * 0.8);
    // One frame in three of this clip is a non-reference B-frame; all of them are left undecoded.
    expect(run.skipDrops / seen).toBeGreaterThan(0.25);
    expect(run.skipDrops / seen).toBeLessThan(0.4);
    expect(run.infos.join('\n')).not.toContain('decoding every frame');
  });

  it('without B-frames (a typical camera): skips nothing, still its capped fps', { timeout: 60_000 }, async () => {
    const run = await capturedFor(annexBClip());
    console.info(`no B-frames, cap ${CAP_FPS} fps: ${JSON.stringify(run)}`);
    expect(run.skipDrops).toBe(0);
    expect(run.fps).toBeGreaterThan(CAP_FPS * 0.85);
    expect(run.capDrops).toBeGreaterThan(SOURCE_FPS * SECONDS * 0.6);
  });

  it('stops skipping for good when what is decoded falls under the cap', { timeout: 60_000 }, async () => {
    // A cap of 25 fps over this clip's 20 fps of reference frames; the rule would not skip here (the source is under
    // twice the cap), so the decoder is told to skip from 10 fps, as a stream with more non-reference frames could.
    server = await launchRtspServer(bFramesAnnexBClip(), { fps: SOURCE_FPS });
    const url = `rtsp://127.0.0.1:${server.port}/stream`;
    const args = [...decoderArgs(describeSource(url), { inputSize: 320, mode: 'live', loop: false }), '--skip-nonref-from-fps', '10'];
    args[1] = args[1]!.replace('! appsink', '! videorate name=ratecap drop-only=true max-rate=25 ! appsink');
    const child = spawn(DECODER_PATH, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    const parser = new DecoderMessageParser();
    const skips: number[] = [];
    let gaveUpAt: number | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`decoder exited with ${code}`)));
        child.stdout!.on('data', (chunk: Buffer) => {
          for (const message of parser.push(chunk)) {
            if (message.type === 'info' && message.text.startsWith('decoding every frame')) gaveUpAt = skips.length;
            if (message.type === 'frame') skips.push(message.frame.skipDrops);
            // Two seconds of 25 fps after giving up.
            if (gaveUpAt !== undefined && skips.length > gaveUpAt + 50) resolve();
          }
        });
      });
    } finally {
      child.kill('SIGKILL');
    }
    expect(skips.slice(0, gaveUpAt).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // The frame right after the message may carry the last skips; none after it.
    expect(skips.slice(gaveUpAt! + 2).every((n) => n === 0)).toBe(true);
  });
});
