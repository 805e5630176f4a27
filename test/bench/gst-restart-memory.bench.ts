/**
 * Does reconnecting a stream leak? Opens the real ingest source (GstFrameSource: probe, fitted RGB pipeline, fps cap)
 * on a shared video, pulls one frame and closes it, N times in one process, and prints RSS growth per restart after
 * a forced GC. gstreamer-superficial 1.7.4 never freed a pipeline (~1.5 MB per restart, measured); patches/ fixes
 * that. A flapping camera restarts every few seconds for days, so the target is < 200 KB per restart.
 * Run: `node --expose-gc --import tsx test/bench/gst-restart-memory.bench.ts` (env POSESTREAM_BENCH_RESTARTS, default 300).
 */
import { assetPath } from '../../pipeline/assets.js';
import { GstFrameSource } from '../../workers/ingest/gst-source.js';

const restarts = Number(process.env.POSESTREAM_BENCH_RESTARTS ?? 300);
const warmup = 20;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

async function restart(source: GstFrameSource): Promise<void> {
  await source.open();
  const event = await source.next();
  if (event.kind !== 'frame') throw new Error(`expected a frame, got ${event.kind}`);
  source.close();
}

async function settledRss(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return process.memoryUsage().rss;
}

const source = new GstFrameSource(assetPath('walkingVideo'), { inputSize: 640, fps: 15, mode: 'live' });
for (let i = 0; i < warmup; i++) await restart(source);
const before = await settledRss();
const t0 = performance.now();
for (let i = 1; i <= restarts; i++) {
  await restart(source);
  if (i % 100 === 0) console.log(`  ${i}/${restarts}: rss ${((await settledRss()) / 1048576).toFixed(1)} MB`);
}
const after = await settledRss();
const perRestartKb = (after - before) / restarts / 1024;
console.log(`${restarts} restarts in ${((performance.now() - t0) / 1000).toFixed(0)} s: rss ${(before / 1048576).toFixed(1)} -> ${(after / 1048576).toFixed(1)} MB`);
console.log(`${perRestartKb.toFixed(1)} KB per restart (target < 200): ${perRestartKb < 200 ? 'PASS' : 'FAIL'}`);
