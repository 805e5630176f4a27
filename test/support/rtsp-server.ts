import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { annexB, killRtspServer, launchRtspServer } from '../../cli/bench/rtsp-server.js';
import { assetPath } from './assets.js';
import { testArtifactsDir } from './env.js';

/**
 * A real RTSP server for tests: gst-rtsp-server through Debian's python3 GI (cli/bench/rtsp-server.ts, shared with
 * `bench capacity`), serving
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

/** The clip as an H.264 Annex-B elementary stream (made once with ffmpeg, no re-encode). */
export function annexBClip(): string {
  return annexB(assetPath('walkingVideo'), path.join(testArtifactsDir, 'walking_person_720p.h264'));
}

const launch = (h264: string, port: number) => launchRtspServer(h264, { port });
const kill = killRtspServer;

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
