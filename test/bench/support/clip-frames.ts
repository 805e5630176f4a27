/**
 * Video clip -> RGB24 frames with their presentation timestamps, through ffprobe (timestamps) and ffmpeg (pixels,
 * `-fps_mode passthrough` so each decoded frame comes out exactly once, whatever the clip's frame-rate
 * irregularities). Dev harness only: the pipeline decodes with GStreamer in ingest.
 */
import { spawn } from 'node:child_process';

export interface ClipFrame {
  index: number;
  ptsMs: number;
  pixels: Uint8Array;
  width: number;
  height: number;
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} exited ${code}: ${err.trim().split('\n').slice(-1)[0]}`))));
  });
}

export async function probeClip(file: string): Promise<{ width: number; height: number; ptsMs: number[] }> {
  const size = (await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file])).trim().split(',');
  const times = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=best_effort_timestamp_time', '-of', 'csv=p=0', file]);
  const ptsMs = times.split('\n').map((line) => line.trim().replace(/,$/, '')).filter(Boolean).map((value) => Math.round(Number(value) * 1000 * 1000) / 1000);
  return { width: Number(size[0]), height: Number(size[1]), ptsMs };
}

/** Yields every video frame in presentation order with its PTS (ms). */
export async function* readClipFrames(file: string): AsyncGenerator<ClipFrame> {
  const { width, height, ptsMs } = await probeClip(file);
  const frameBytes = width * height * 3;
  const child = spawn('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:v:0', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  let pending: Buffer = Buffer.alloc(0);
  let index = 0;
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= frameBytes) {
      const pixels = new Uint8Array(pending.subarray(0, frameBytes));
      pending = pending.subarray(frameBytes);
      const pts = ptsMs[index];
      if (pts === undefined) throw new Error(`${file}: ffmpeg decoded more frames than ffprobe listed (${ptsMs.length})`);
      yield { index, ptsMs: pts, pixels, width, height };
      index++;
    }
  }
  const code = await exited;
  if (code !== 0) throw new Error(`ffmpeg failed on ${file}: ${stderr.trim()}`);
  if (index !== ptsMs.length) throw new Error(`${file}: ffmpeg decoded ${index} frames, ffprobe listed ${ptsMs.length}`);
}
