import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assetPath } from './assets.js';
import { testArtifactsDir } from './env.js';

/**
 * A real RTSP server for tests: gst-rtsp-server through Debian's python3 GI (test/support/rtsp-server.py), serving
 * the shared walking clip in an endless loop at rtsp://127.0.0.1:<port>/stream. stop() and start() again keep the
 * port, which is how reconnect tests take a camera away and bring it back.
 */
export interface TestRtspServer {
  readonly url: string;
  readonly port: number;
  /** Starts it again on the same port (after stop()). */
  start(): Promise<void>;
  /** Kills the server; clients see the connection drop. */
  stop(): Promise<void>;
}

const scriptPath = path.join(path.dirname(fileURLToPath(import.meta.url)), 'rtsp-server.py');
/** GI bindings live in Debian's python, not in a pyenv/venv python that may come first on PATH. */
const systemPython = '/usr/bin/python3';

/** The clip as an H.264 Annex-B elementary stream (made once with ffmpeg, no re-encode). */
export function annexBClip(): string {
  const source = assetPath('walkingVideo');
  const target = path.join(testArtifactsDir, 'walking_person_720p.h264');
  if (existsSync(target) && statSync(target).mtimeMs >= statSync(source).mtimeMs) return target;
  mkdirSync(testArtifactsDir, { recursive: true });
  const result = spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-i', source, '-an', '-c:v', 'copy', '-bsf:v', 'h264_mp4toannexb', target], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ffmpeg could not extract the H.264 stream of ${source}: ${result.stderr || result.error?.message}`);
  return target;
}

function launch(h264: string, port: number): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(systemPython, [scriptPath, '--h264', h264, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`RTSP test server did not start within 10 s: ${output}`));
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
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`RTSP test server exited with ${code}: ${output}`));
    });
  });
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Starts a server on a free port (or `port`). Call stop() in afterAll. */
export async function startRtspServer(options: { port?: number } = {}): Promise<TestRtspServer> {
  const h264 = annexBClip();
  let { child, port } = await launch(h264, options.port ?? 0);
  let current: ChildProcess | undefined = child;
  return {
    get url() {
      return `rtsp://127.0.0.1:${port}/stream`;
    },
    get port() {
      return port;
    },
    async start() {
      if (current) return;
      ({ child, port } = await launch(h264, port));
      current = child;
    },
    async stop() {
      if (!current) return;
      const stopping = current;
      current = undefined;
      await kill(stopping);
    },
  };
}
