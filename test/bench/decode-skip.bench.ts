/**
 * What skipping non-reference frames saves (workers/ingest/decoder/skip-nonref.h): the real decoder process on a
 * live RTSP camera (cli/bench/rtsp-server.ts, 720p at 30 fps) capped at 5 fps, as ingest runs it, with skipping (the
 * default) and with every frame decoded; its CPU from /proc over the same window (cli/bench/decode-cost.ts). The
 * camera has B-frames (x264 -bf 2, one frame in three is a non-reference B-frame); the usual camera stream without
 * B-frames is measured too (skipping is a no-op there).
 * Run: `node --import tsx test/bench/decode-skip.bench.ts` (env POSESTREAM_BENCH_SECONDS, default 20; _FPS, default 5).
 */
import { measureDecoderCpu, type DecoderCpu } from '../../cli/bench/decode-cost.js';
import { killRtspServer, launchRtspServer } from '../../cli/bench/rtsp-server.js';
import { bFramesAnnexBClip } from '../support/media.js';
import { annexBClip } from '../support/rtsp-server.js';

const seconds = Number(process.env.POSESTREAM_BENCH_SECONDS ?? 20);
const capFps = Number(process.env.POSESTREAM_BENCH_FPS ?? 5);
const SOURCE_FPS = 30;

/** The decoder's usual arguments without the skipping option: every frame decoded. */
function withoutSkipping(args: string[]): string[] {
  const at = args.indexOf('--skip-nonref-from-fps');
  return at < 0 ? args : [...args.slice(0, at), ...args.slice(at + 2)];
}

async function measure(h264: string, skipping: boolean): Promise<DecoderCpu> {
  const server = await launchRtspServer(h264, { fps: SOURCE_FPS });
  try {
    return await measureDecoderCpu({
      url: `rtsp://127.0.0.1:${server.port}/stream`,
      decoder: { inputSize: 640, mode: 'live', fps: capFps, loop: false },
      warmupFrames: capFps * 2,
      frames: Number.MAX_SAFE_INTEGER,
      seconds,
      ...(skipping ? {} : { args: withoutSkipping }),
    });
  } finally {
    await killRtspServer(server.child);
  }
}

const line = (name: string, r: DecoderCpu) =>
  `${name.padEnd(44)} ${(r.cpu_s / r.wall_s).toFixed(3)} cores  ${((r.cpu_s / (r.frames + r.cap_drops + r.skip_drops)) * 1000).toFixed(2)} ms per source frame  ${(r.frames / r.wall_s).toFixed(2)} fps delivered  undecoded ${r.skip_drops}, cap drops ${r.cap_drops}`;

const clips = { 'B-frames (x264 -bf 2)': bFramesAnnexBClip(), 'no B-frames (the usual camera)': annexBClip() };
console.log(`decoder CPU, 720p RTSP camera at ${SOURCE_FPS} fps capped at ${capFps} fps, ${seconds} s each:`);
const results: Record<string, DecoderCpu> = {};
for (const [name, h264] of Object.entries(clips)) {
  for (const skipping of [true, false]) {
    const label = `${name}, ${skipping ? 'skipping' : 'every frame'}`;
    results[label] = await measure(h264, skipping);
    console.log(line(label, results[label]!));
  }
}
const [skipped, full] = [results['B-frames (x264 -bf 2), skipping']!, results['B-frames (x264 -bf 2), every frame']!];
console.log(`B-frames: skipping uses ${((skipped.cpu_s / skipped.wall_s / (full.cpu_s / full.wall_s)) * 100).toFixed(0)} % of the CPU of decoding every frame`);
