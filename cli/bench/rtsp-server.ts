import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PosestreamError } from '../../pipeline/errors.js';

/**
 * A real RTSP server on 127.0.0.1 for tests and `bench capacity`: gst-rtsp-server through Debian's python3 GI
 * (rtsp-server.py beside this file), looping an H.264 Annex-B file, paced in real time. Annex-B because a GStreamer
 * RTSP client stops after one pass when the server seeks back; a looping byte stream looks like an endless camera.
 */

const scriptPath = path.join(path.dirname(fileURLToPath(import.meta.url)), 'rtsp-server.py');
/** GI bindings live in Debian's python, not in a pyenv/venv python that may come first on PATH. */
const systemPython = '/usr/bin/python3';

export interface RtspServerProcess {
  child: ChildProcess;
  port: number;
}

/**
 * `source` as an H.264 Annex-B elementary stream at `target` (made once; remade when the source is newer). By default
 * the video is copied (it must be H.264); with `height` (scaled to it) or `reencode` it is encoded without B-frames,
 * as a camera's stream would be.
 */
export function annexB(source: string, target: string, options: { height?: number; reencode?: boolean } = {}): string {
  if (existsSync(target) && statSync(target).mtimeMs >= statSync(source).mtimeMs) return target;
  mkdirSync(path.dirname(target), { recursive: true });
  const encode = ['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '0', '-g', '30', '-pix_fmt', 'yuv420p'];
  const video = options.height !== undefined ? ['-vf', `scale=-2:${options.height}`, ...encode] : options.reencode ? encode : ['-c:v', 'copy'];
  const result = spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-i', source, '-an', ...video, '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', target], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new PosestreamError('PS_BENCH_TOOL_FAILED', `ffmpeg could not make an H.264 stream of ${path.basename(source)}: ${(result.stderr || result.error?.message || '').trim().slice(0, 300)}`);
  }
  return target;
}

/** Starts the server (port 0: a free one); resolves once it accepts clients. */
export function launchRtspServer(h264: string, options: { port?: number; fps?: number; cameras?: number } = {}): Promise<RtspServerProcess> {
  const args = [scriptPath, '--h264', h264, '--port', String(options.port ?? 0), '--fps', String(options.fps ?? 30), '--cameras', String(options.cameras ?? 0)];
  return new Promise((resolve, reject) => {
    const child = spawn(systemPython, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`RTSP server did not start within 10 s: ${output}`));
    }, 10_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const ready = /READY (\d+)/.exec(output);
      if (ready) {
        clearTimeout(timer);
        resolve({ child, port: Number(ready[1]) });
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new PosestreamError('PS_BENCH_TOOL_FAILED', `cannot start the RTSP server (${systemPython} with GStreamer RTSP server bindings): ${error.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`RTSP server exited with ${code}: ${output}`));
    });
  });
}

export function killRtspServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
