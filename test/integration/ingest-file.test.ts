import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema, type PosestreamConfig } from '../../config/schema.js';
import { createMetrics } from '../../pipeline/obs/metrics.js';
import { createRedis, type Redis } from '../../pipeline/redis/client.js';
import { FrameConsumer, type FrameDelivery } from '../../pipeline/redis/frame-stream.js';
import { keys } from '../../pipeline/redis/keys.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import type { StreamState } from '../../pipeline/wire/v1.js';
import { startIngest } from '../../workers/ingest/main.js';
import { assetPath, skipWithout } from '../support/assets.js';
import { testArtifactsDir, testRedisUrl } from '../support/env.js';
import { waitForStreamState, waitUntil } from '../support/wait.js';

const DB = 12;
const logger = pino({ level: process.env.POSESTREAM_TEST_LOG ?? 'silent' });
const redis = createRedis(testRedisUrl(DB), { name: 'test', logger });
const reader = createRedis(testRedisUrl(DB), { name: 'test-reader', logger });
const registry = new StreamRegistry(redis);
let stopIngest: (() => Promise<void>) | undefined;

/** RGB frames (not the I420 default): the lossless case compares them byte for byte with GStreamer's own RGB. */
function configWith(streams: unknown[], ingest: Record<string, unknown> = {}): PosestreamConfig {
  return configSchema.parse({ redis: { url: testRedisUrl(DB) }, model: { path: 'unused.xml', inputFormat: 'rgb' }, ingest: { stallTimeoutSec: 5, ...ingest }, streams });
}

const waitForState = (streamId: string, predicate: (state: StreamState) => boolean, timeoutMs: number) =>
  waitForStreamState(registry, streamId, predicate, timeoutMs);

beforeEach(async () => {
  await redis.flushdb();
});
afterEach(async () => {
  await stopIngest?.();
  stopIngest = undefined;
});
afterAll(async () => {
  await redis.flushdb();
  redis.disconnect();
  reader.disconnect();
});

/**
 * GStreamer's own rendering of the clip by the videoconvertscale element, written by gst-launch: the bytes ingest
 * must carry (the decoder runs the same GstVideoConverter with the element's defaults).
 */
function referenceFrames(video: string): Buffer {
  mkdirSync(testArtifactsDir, { recursive: true });
  const target = path.join(testArtifactsDir, 'walking_640x360.rgb');
  const result = spawnSync('gst-launch-1.0', ['-q', 'uridecodebin', `uri=${pathToFileURL(video).href}`, 'caps=video/x-raw(ANY)', 'expose-all-streams=false', '!', 'videoconvertscale', '!', 'video/x-raw,format=RGB,width=640,height=360', '!', 'filesink', `location=${target}`], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`gst-launch failed: ${result.stderr}`);
  return readFileSync(target);
}

/** An independent decoder (ffmpeg) for the first frame: proves the picture, channel order and geometry are right. */
function ffmpegFirstFrame(video: string): Buffer {
  const result = spawnSync('ffmpeg', ['-loglevel', 'error', '-i', video, '-frames:v', '1', '-vf', 'scale=640:360', '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-'], { maxBuffer: 8 << 20 });
  if (result.status !== 0) throw new Error(`ffmpeg failed: ${result.stderr}`);
  return result.stdout;
}

function meanAbsDiff(a: Buffer, b: Buffer, swapRB = false): number {
  let sum = 0;
  for (let i = 0; i < a.length; i += 3) {
    for (let c = 0; c < 3; c += 1) sum += Math.abs(a[i + c]! - b[i + (swapRB ? 2 - c : c)]!);
  }
  return sum / a.length;
}

describe.skipIf(skipWithout('walkingVideo'))('ingest of files', () => {
  it('lossless: every frame of the clip, in order, byte-exact, then one end marker', async () => {
    const video = assetPath('walkingVideo');
    const ingest = await startIngest(configWith([{ id: 'walk', url: video, mode: 'lossless' }], { losslessQueueLength: 8 }), { logger, processId: 'ingest-file' });
    stopIngest = ingest.stop;
    const consumer = new FrameConsumer(reader, { consumer: 'test', claimIdleMs: 10_000 });
    const deliveries: FrameDelivery[] = [];
    let maxQueued = 0;
    while (!deliveries.some((delivery) => delivery.entry.kind === 'eos')) {
      maxQueued = Math.max(maxQueued, await redis.xlen(keys.frames('walk')));
      const batch = await consumer.read(['walk'], { count: 4, blockMs: 10_000 });
      if (batch.length === 0) throw new Error(`no frame for 10 s after ${deliveries.length}`);
      deliveries.push(...batch);
      const multi = redis.multi();
      for (const delivery of batch) consumer.ackInto(multi, delivery);
      await multi.exec();
    }
    const frames = deliveries.flatMap((delivery) => (delivery.entry.kind === 'frame' ? [delivery.entry] : []));
    expect(frames).toHaveLength(144);
    expect(deliveries).toHaveLength(145);
    expect(deliveries.at(-1)!.entry).toEqual({ kind: 'eos', end: { v: 1, kind: 'eos', streamId: 'walk', lastSeq: 143, reason: 'eof' } });
    expect(frames.map((frame) => frame.meta.seq)).toEqual([...Array(144).keys()]);
    expect(maxQueued).toBeLessThanOrEqual(8);
    for (const { meta } of frames) {
      expect(meta).toMatchObject({ streamId: 'walk', width: 640, height: 360, sourceWidth: 1280, sourceHeight: 720, format: 'rgb24' });
      expect(meta.publishTs).toBeGreaterThanOrEqual(meta.captureTs);
    }
    const reference = referenceFrames(video);
    expect(reference.length).toBe(144 * 640 * 360 * 3);
    frames.forEach((frame, index) => {
      expect(frame.pixels.equals(reference.subarray(index * 691_200, (index + 1) * 691_200)), `frame ${index}`).toBe(true);
    });
    const ffmpeg = ffmpegFirstFrame(video);
    expect(meanAbsDiff(frames[0]!.pixels, ffmpeg)).toBeLessThan(6);
    expect(meanAbsDiff(frames[0]!.pixels, ffmpeg)).toBeLessThan(meanAbsDiff(frames[0]!.pixels, ffmpeg, true));
    expect(await waitForState('walk', (state) => state.state === 'ended', 2_000)).toMatchObject({ reason: 'end of file', owner: 'ingest-file', sourceWidth: 1280, sourceHeight: 720 });
  });

  it('live: a slow consumer never lets the stream grow past its bound; stale frames are counted and show as seq gaps', async () => {
    const metrics = createMetrics();
    const ingest = await startIngest(configWith([{ id: 'ball', url: 'test://ball' }], { liveQueueLength: 3 }), { logger, metrics });
    stopIngest = ingest.stop;
    const consumer = new FrameConsumer(reader, { consumer: 'slow', claimIdleMs: 10_000 });
    const seqs: number[] = [];
    let maxQueued = 0;
    const until = Date.now() + 3_000;
    while (Date.now() < until) {
      const batch = await consumer.read(['ball'], { count: 1, blockMs: 2_000 });
      for (const delivery of batch) if (delivery.entry.kind === 'frame') seqs.push(delivery.entry.meta.seq);
      const multi = redis.multi();
      for (const delivery of batch) consumer.ackInto(multi, delivery);
      await multi.exec();
      for (let i = 0; i < 6; i += 1) {
        maxQueued = Math.max(maxQueued, await redis.xlen(keys.frames('ball')));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    expect(maxQueued).toBeGreaterThan(0);
    expect(maxQueued).toBeLessThanOrEqual(3);
    expect(seqs.length).toBeGreaterThan(5);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs.at(-1)! - seqs[0]!).toBeGreaterThan(seqs.length * 3);
    const dropped = (await metrics.framesDropped.get()).values.find((value) => value.labels.reason === 'stale' && value.labels.stream_id === 'ball');
    const ingested = (await metrics.framesIngested.get()).values.find((value) => value.labels.stream_id === 'ball');
    expect(dropped?.value ?? 0).toBeGreaterThan(30);
    // Every published frame was read, is still queued, or was counted as stale.
    expect(ingested!.value - dropped!.value - seqs.length).toBeLessThanOrEqual(3 + 1);
    const depth = (await metrics.queueDepth.get()).values.find((value) => value.labels.stream_id === 'ball')?.value;
    expect(depth).toBeGreaterThan(0);
    expect(depth).toBeLessThanOrEqual(3);
  });

  it('live: a looping file plays at its own frame rate and loops; an fps cap drops down to it', async () => {
    const metrics = createMetrics();
    const ingest = await startIngest(configWith([{ id: 'walk', url: assetPath('walkingVideo'), loop: true }, { id: 'capped', url: 'test://ball', fps: 5 }]), { logger, metrics });
    stopIngest = ingest.stop;
    await waitForState('walk', (state) => state.state === 'running', 10_000);
    await waitForState('capped', (state) => state.state === 'running', 10_000);
    const count = async (id: string) => (await metrics.framesIngested.get()).values.find((value) => value.labels.stream_id === id)?.value ?? 0;
    const [walk0, capped0] = [await count('walk'), await count('capped')];
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    const walkBefore = await count('walk');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const walk = (await count('walk')) - walk0;
    const capped = (await count('capped')) - capped0;
    // The 4.8 s clip still delivers frames 5.5-6 s after it started (it looped), at most at its own 30 fps, never at
    // the ~400 fps it decodes at (late frames may be skipped under CPU load, which is what live mode is for).
    expect((await count('walk')) - walkBefore).toBeGreaterThan(0);
    expect(walk).toBeGreaterThan(60);
    expect(walk).toBeLessThan(6 * 30 * 1.25);
    expect(capped).toBeGreaterThan(6 * 5 * 0.5);
    expect(capped).toBeLessThan(6 * 5 * 1.3);
    const capDrops = (await metrics.framesDropped.get()).values.find((value) => value.labels.stream_id === 'capped' && value.labels.reason === 'fps_cap')?.value ?? 0;
    const cappedTotal = await count('capped');
    // The 30 fps pattern capped to 5: about 5 of every 6 frames are dropped by the cap, and counted.
    expect(capDrops / (capDrops + cappedTotal)).toBeGreaterThan(0.7);
    expect((await registry.states()).get('walk')).toMatchObject({ state: 'running', restarts: 0 });
  });

  it('live: a looping file that played past its end plays on after its ingest restarts (seq continues)', async () => {
    const config = configWith([{ id: 'walk', url: assetPath('walkingVideo'), loop: true }]);
    const first = await startIngest(config, { logger, processId: 'ingest-loop-1' });
    stopIngest = first.stop;
    // Past the 4.8 s clip's end: the recorded media time is beyond the file's duration.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    await first.stop();
    const lastSeq = Number(await redis.hget(keys.ingestRecord('walk'), 'seq'));
    expect(lastSeq).toBeGreaterThan(144);
    const second = await startIngest(config, { logger, processId: 'ingest-loop-2' });
    stopIngest = second.stop;
    const consumer = new FrameConsumer(reader, { consumer: 'loop-test', claimIdleMs: 10_000 });
    const frames = await waitUntil(async () => {
      const batch = await consumer.read(['walk'], { count: 8, blockMs: 1_000 });
      const fresh = batch.flatMap((d) => (d.entry.kind === 'frame' && d.entry.meta.seq >= lastSeq ? [d.entry.meta.seq] : []));
      return fresh.length > 0 ? fresh : undefined;
    }, 10_000, 'frames after the restart');
    expect(Math.min(...frames)).toBeGreaterThanOrEqual(lastSeq);
  });

  it('a bad URL fails only its own stream, with the reason; the others flow', async () => {
    const ingest = await startIngest(
      configWith([
        { id: 'missing', url: '/no/such/clip.mp4' },
        { id: 'closed', url: 'rtsp://127.0.0.1:9/stream' },
        { id: 'notvideo', url: '/etc/hostname', mode: 'lossless' },
        { id: 'ball', url: 'test://ball' },
      ]),
      { logger },
    );
    stopIngest = ingest.stop;
    const missing = await waitForState('missing', (state) => state.state === 'error', 5_000);
    expect(missing.reason).toBe('no such file: /no/such/clip.mp4');
    expect((await waitForState('closed', (state) => state.state === 'error', 5_000)).reason).toMatch(/Could not open resource for reading and writing/);
    expect((await waitForState('notvideo', (state) => state.state === 'error', 5_000)).reason).toMatch(/text file|could not determine type|not.*video/i);
    const consumer = new FrameConsumer(reader, { consumer: 'test', claimIdleMs: 10_000 });
    const batch = await consumer.read(['ball', 'missing', 'closed', 'notvideo'], { count: 10, blockMs: 5_000 });
    expect(batch.length).toBeGreaterThan(0);
    expect(batch.every((delivery) => delivery.streamId === 'ball')).toBe(true);
    expect((await registry.states()).get('ball')?.state).toBe('running');
    // The failing streams keep retrying with back-off.
    const later = await waitForState('missing', (state) => state.restarts >= 2, 5_000);
    expect(later.state).toBe('error');
  });

  it('disabling and removing running streams ends them with an end marker naming why', async () => {
    const ingest = await startIngest(configWith([{ id: 'one', url: 'test://ball' }, { id: 'two', url: 'test://snow' }]), { logger });
    stopIngest = ingest.stop;
    await waitForState('one', (state) => state.state === 'running', 10_000);
    await waitForState('two', (state) => state.state === 'running', 10_000);
    await registry.update('one', { enabled: false });
    await registry.remove('two');
    const stopped = await waitForState('one', (state) => state.state === 'stopped', 5_000);
    expect(stopped.reason).toBe('disabled');
    const ends = async (id: string) => {
      const entries = await redis.xrange(keys.frames(id), '-', '+');
      return entries.map(([, fields]) => JSON.parse(fields[1]!)).filter((meta) => meta.kind === 'eos');
    };
    await expect.poll(() => ends('two'), { timeout: 5_000 }).toEqual([expect.objectContaining({ reason: 'removed' })]);
    expect(await ends('one')).toEqual([expect.objectContaining({ reason: 'disabled' })]);
    expect((await registry.states()).has('two')).toBe(false);
    // Enabling again starts it again (a new job), seq continuing after the end marker.
    await registry.update('one', { enabled: true });
    await waitForState('one', (state) => state.state === 'running', 10_000);
  });
});
