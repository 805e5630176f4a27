/**
 * Does reconnecting a stream leak? Runs the real ingest source (DecoderFrameSource: a posestream-decode child with
 * the fitted RGB path and an fps cap) on a shared video: open, take one frame, close; N times in one process. Prints
 * this (ingest) process's RSS growth per restart after a forced GC, and checks that no decoder process is left.
 * Everything GStreamer allocates lives in the child and dies with it, so the ingest side must stay flat: a camera
 * flapping once a minute restarts ~43,000 times a month. (In-process gstreamer-superficial, before the decoder
 * process: 1,045 KB per restart, 50-75 KB after patching the binding.)
 * Run: `node --expose-gc --import tsx test/bench/gst-restart-memory.bench.ts` (env POSESTREAM_BENCH_RESTARTS,
 * default 1000). Target: < 5 KB per restart (noise of a Node heap measured with RSS).
 */
import { assetPath } from '../../pipeline/assets.js';
import { DecoderFrameSource } from '../../workers/ingest/decoder-source.js';
import { decoderChildren } from '../support/media.js';

const restarts = Number(process.env.POSESTREAM_BENCH_RESTARTS ?? 1000);
const warmup = 20;
const TARGET_KB = 5;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

async function restart(source: DecoderFrameSource): Promise<void> {
  await source.open();
  const event = await source.next();
  if (event.kind !== 'frame') throw new Error(`expected a frame, got ${JSON.stringify(event)}`);
  source.close();
}

async function settledRss(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return process.memoryUsage().rss;
}

const mb = (bytes: number) => (bytes / 1048576).toFixed(1);
const source = new DecoderFrameSource(assetPath('walkingVideo'), { inputSize: 640, fps: 15, mode: 'live' });
for (let i = 0; i < warmup; i++) await restart(source);
const before = await settledRss();
const t0 = performance.now();
// RSS is noisy (V8 heap, 0.7 MB frame buffers): a least-squares slope over samples every 50 restarts says more than
// two end points.
const samples: Array<[number, number]> = [[0, before]];
for (let i = 1; i <= restarts; i++) {
  await restart(source);
  if (i % 50 === 0) samples.push([i, await settledRss()]);
  if (i % 100 === 0) console.log(`  ${i}/${restarts}: rss ${mb(samples.at(-1)![1])} MB, decoder processes alive ${decoderChildren().length}`);
}
const after = await settledRss();
await new Promise((resolve) => setTimeout(resolve, 1_500));
const leftover = decoderChildren().length;
const meanX = samples.reduce((sum, [x]) => sum + x, 0) / samples.length;
const meanY = samples.reduce((sum, [, y]) => sum + y, 0) / samples.length;
const slope = samples.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0) / samples.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
const slopeKb = slope / 1024;
const rssValues = samples.map(([, y]) => y);
console.log(`${restarts} restarts in ${((performance.now() - t0) / 1000).toFixed(0)} s: rss ${mb(before)} -> ${mb(after)} MB (samples ${mb(Math.min(...rssValues))}-${mb(Math.max(...rssValues))} MB)`);
console.log(`${((after - before) / restarts / 1024).toFixed(2)} KB per restart end to end, ${slopeKb.toFixed(2)} KB per restart fitted (target < ${TARGET_KB}); decoder processes left: ${leftover}`);
console.log(slopeKb < TARGET_KB && leftover === 0 ? 'PASS' : 'FAIL');
