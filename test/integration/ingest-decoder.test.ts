/**
 * The ingest decoder process (workers/ingest/decoder/, built into build/bin by scripts/setup.sh) with real
 * GStreamer: fit parity with letterbox.ts, back-pressure, per-frame geometry across a mid-stream resolution change,
 * "no video stream", a crashed decoder, and no decoder outliving its stream or its ingest process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import { repoRoot } from '../../pipeline/assets.js';
import { frameBytes, i420ToRgb } from '../../pipeline/image/i420.js';
import { fitInside } from '../../pipeline/pose/letterbox.js';
import { createRedis } from '../../pipeline/redis/client.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import type { StreamState } from '../../pipeline/wire/v1.js';
import { DECODER_PATH, DecoderFrameSource } from '../../workers/ingest/decoder-source.js';
import type { SourceEvent, SourceFrame } from '../../workers/ingest/frame-source.js';
import { startIngest } from '../../workers/ingest/main.js';
import { assetPath, skipWithout } from '../support/assets.js';
import { testRedisUrl } from '../support/env.js';
import { alive, audioOnlyFile, decoderChildren, resolutionChangeClip } from '../support/media.js';
import { waitForStreamState, waitUntil } from '../support/wait.js';

const DB = 15;
const logger = pino({ level: process.env.POSESTREAM_TEST_LOG ?? 'silent' });
const redis = createRedis(testRedisUrl(DB), { name: 'test', logger });
const registry = new StreamRegistry(redis);
let stopIngest: (() => Promise<void>) | undefined;

if (!existsSync(DECODER_PATH)) throw new Error(`${DECODER_PATH} is missing: run scripts/setup.sh (make -C workers/ingest/decoder)`);

const stateOf = (id: string, predicate: (state: StreamState) => boolean, timeoutMs: number) => waitForStreamState(registry, id, predicate, timeoutMs);
/** waitUntil for synchronous checks: a value, or undefined for "not yet". */
const waitFor = <T>(what: string, probe: () => T | undefined, timeoutMs: number) => waitUntil(async () => probe(), timeoutMs, what, 50);

function configWith(streams: unknown[]) {
  return configSchema.parse({ redis: { url: testRedisUrl(DB) }, model: { path: 'unused.xml' }, ingest: { stallTimeoutSec: 5, backoffInitialMs: 200, backoffMaxMs: 1_000 }, streams });
}

async function drain(source: DecoderFrameSource): Promise<{ frames: SourceFrame[]; last: SourceEvent }> {
  const frames: SourceFrame[] = [];
  for (;;) {
    const event = await source.next();
    if (event.kind !== 'frame') return { frames, last: event };
    frames.push(event);
  }
}

beforeEach(async () => {
  await redis.flushdb();
});
afterEach(async () => {
  await stopIngest?.();
  stopIngest = undefined;
});
afterAll(async () => {
  await registry.close();
  await redis.flushdb();
  redis.disconnect();
});

describe('posestream-decode', () => {
  it('fits every size exactly as fitInside (pipeline/pose/letterbox.ts) does', () => {
    let seed = 7;
    const random = (max: number) => 1 + ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) % max);
    const sizes: Array<[number, number, number]> = [[1280, 720, 640], [960, 544, 640], [810, 1080, 640], [320, 240, 640], [5000, 10, 640], [1, 1, 640], [427, 640, 320], [853, 480, 640]];
    for (let i = 0; i < 600; i += 1) sizes.push([random(4096), random(4096), [320, 416, 480, 640, 1280][i % 5]!]);
    for (const size of [320, 416, 480, 640, 1280]) {
      const group = sizes.filter(([, , side]) => side === size);
      const result = spawnSync(DECODER_PATH, ['--size', String(size), ...group.flatMap(([w, h]) => ['--fit', `${w}x${h}`])], { encoding: 'utf8' });
      expect(result.status).toBe(0);
      const expected = group.map(([w, h]) => fitInside(w, h, size)).map(({ width, height }) => `${width}x${height}`);
      expect(result.stdout.trim().split('\n')).toEqual(expected);
    }
  });
});

describe.skipIf(skipWithout('walkingVideo'))('DecoderFrameSource', () => {
  it('lossless: frames not taken hold the decoder back (nothing piles up in Node); then every frame, with media time', async () => {
    const source = new DecoderFrameSource(assetPath('walkingVideo'), { inputSize: 640, mode: 'lossless' });
    await source.open();
    try {
      const first = await source.next();
      expect(first).toMatchObject({ kind: 'frame', width: 640, height: 360, sourceWidth: 1280, sourceHeight: 720, ptsMs: 0 });
      // Decoding all 144 frames takes < 1 s; a decoder that could write them all would have exited at EOS by now.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(alive(source.pid!)).toBe(true);
      const { frames, last } = await drain(source);
      expect(last).toEqual({ kind: 'eos' });
      expect(frames).toHaveLength(143);
      expect(frames.at(-1)!.ptsMs).toBeCloseTo(143 * 33.333, 0);
      expect(frames.every((frame) => frame.pixels.length === 640 * 360 * 3 && frame.behindDrops === 0)).toBe(true);
    } finally {
      source.close();
    }
  });

  it('delivers every frame at its own fitted size when the resolution changes mid-stream', async () => {
    const infos: string[] = [];
    const source = new DecoderFrameSource(resolutionChangeClip(), { inputSize: 640, mode: 'lossless', onInfo: (text) => infos.push(text) });
    await source.open();
    const { frames, last } = await drain(source);
    source.close();
    expect(last).toEqual({ kind: 'eos' });
    const sizes = frames.map(({ sourceWidth, sourceHeight, width, height }) => `${sourceWidth}x${sourceHeight}->${width}x${height}`);
    expect(sizes).toEqual([...Array(30).fill('640x360->640x360'), ...Array(30).fill('320x240->640x480')]);
    expect(frames.every((frame) => frame.pixels.length === frame.width * frame.height * 3)).toBe(true);
    expect(infos).toEqual(['source 640x360 I420 -> 640x360 RGB', 'source 320x240 I420 -> 640x480 RGB']);
  });

  it('i420: video-range frames, only scaled (the source matrix kept), which the model graph converts to the RGB frame', async () => {
    const firstFrames = async (url: string): Promise<{ rgb: SourceFrame; i420: SourceFrame; meanDifference: number }> => {
      const first = async (format: 'rgb24' | 'i420'): Promise<SourceFrame> => {
        const source = new DecoderFrameSource(url, { inputSize: 640, mode: 'lossless', format });
        await source.open();
        try {
          const event = await source.next();
          if (event.kind !== 'frame') throw new Error(`expected a frame, got ${JSON.stringify(event)}`);
          return event;
        } finally {
          source.close();
        }
      };
      const [rgb, i420] = await Promise.all([first('rgb24'), first('i420')]);
      // As the model graph sees it: I420toRGB's BT.601 video-range formula.
      const converted = i420ToRgb(i420.pixels, i420.width, i420.height);
      let total = 0;
      for (let i = 0; i < converted.length; i++) total += Math.abs(converted[i]! - rgb.pixels[i]!);
      return { rgb, i420, meanDifference: total / converted.length };
    };
    // The 720p clip is BT.709 video range: kept as it is (1.7 levels off if converted to BT.601, at a third more
    // decoder CPU); the model reading BT.709 as BT.601 costs no measurable accuracy (README, accuracy through I420).
    const hd = await firstFrames(assetPath('walkingVideo'));
    expect(hd.i420).toMatchObject({ format: 'i420', width: 640, height: 360, sourceWidth: 1280, sourceHeight: 720, ptsMs: 0 });
    expect(hd.rgb.format).toBe('rgb24');
    expect(hd.i420.pixels.length).toBe(frameBytes('i420', 640, 360));
    // Off by the BT.709/BT.601 difference only (3.4 levels; 1.7 when the decoder converted the matrix); a frame not in
    // video range, or with the chroma planes misplaced, would be far off.
    expect(hd.meanDifference).toBeLessThan(4);
  });

  it('live: a reader that falls behind gets the newest frame at the moment it asks; older ones are dropped unconverted and counted', async () => {
    const source = new DecoderFrameSource('test://ball', { inputSize: 640, mode: 'live' });
    await source.open();
    try {
      const reads: Array<{ askedAt: number; frame: SourceFrame }> = [];
      for (let i = 0; i < 6; i += 1) {
        const askedAt = Date.now();
        const event = await source.next();
        if (event.kind !== 'frame') throw new Error(`expected a frame, got ${JSON.stringify(event)}`);
        reads.push({ askedAt, frame: event });
        await new Promise((resolve) => setTimeout(resolve, 300)); // a 30 fps source: ~9 frames per pause
      }
      const later = reads.slice(2);
      expect(later.reduce((sum, { frame }) => sum + frame.behindDrops, 0)).toBeGreaterThan(4 * 5);
      // Media time keeps pace with the wall clock between requests: each frame is the newest when it was asked for,
      // not one converted while the reader was away (which would lag a full pause behind).
      for (const { askedAt, frame } of later) {
        const wall = askedAt - reads[1]!.askedAt;
        const media = frame.ptsMs! - reads[1]!.frame.ptsMs!;
        expect(Math.abs(media - wall)).toBeLessThan(150);
      }
    } finally {
      source.close();
    }
  });
});

describe.skipIf(skipWithout('walkingVideo'))('ingest with decoder processes', () => {
  it('an audio-only file is "no video stream in <url>", naming the URL as given and nothing more', async () => {
    const url = path.relative(process.cwd(), audioOnlyFile());
    const ingest = await startIngest(configWith([{ id: 'song', url, mode: 'lossless' }]), { logger });
    stopIngest = ingest.stop;
    const state = await stateOf('song', (s) => s.state === 'error', 10_000);
    expect(state.reason).toBe(`no video stream in ${url}`);
  });

  it('a decoder killed with SIGKILL is a failure the stream reconnects from; stopping leaves no decoder behind', async () => {
    const ingest = await startIngest(configWith([{ id: 'ball', url: 'test://ball' }, { id: 'walk', url: assetPath('walkingVideo'), loop: true }]), { logger });
    stopIngest = ingest.stop;
    await stateOf('ball', (s) => s.state === 'running', 10_000);
    await stateOf('walk', (s) => s.state === 'running', 10_000);
    const before = await waitFor('two decoders', () => (decoderChildren().length === 2 ? decoderChildren() : undefined), 5_000);
    const ballDecoder = before.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('videotestsrc'))!;
    process.kill(ballDecoder, 'SIGKILL');
    const failed = await stateOf('ball', (s) => s.state === 'reconnecting', 5_000);
    expect(failed.reason).toBe('decoder killed by SIGKILL');
    const back = await stateOf('ball', (s) => s.state === 'running' && s.since > failed.since, 10_000);
    expect(back.restarts).toBe(1);
    expect((await registry.states()).get('walk')).toMatchObject({ state: 'running', restarts: 0 });
    expect(decoderChildren()).toHaveLength(2);
    await ingest.stop();
    stopIngest = undefined;
    await waitFor('decoders gone', () => (decoderChildren().length === 0 ? true : undefined), 3_000);
  });

  it('an ingest process killed with SIGKILL takes its decoders with it', async () => {
    const config = configWith([{ id: 'ball', url: 'test://ball' }]);
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test/support/ingest-process.ts'), JSON.stringify(config), 'ingest-doomed'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const decoder = await waitFor('a decoder under the ingest process', () => decoderChildren(child.pid!)[0], 15_000);
      child.kill('SIGKILL');
      await waitFor('the orphaned decoder to exit', () => (alive(decoder) ? undefined : true), 3_000);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
