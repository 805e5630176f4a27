import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { assetPath, buildDir } from '../../../pipeline/assets.js';
import { PosestreamError } from '../../../pipeline/errors.js';
import { keys } from '../../../pipeline/redis/keys.js';
import { ResultReader } from '../../../pipeline/redis/result-stream.js';
import type { StreamConfigInput } from '../../../pipeline/streams/definition.js';
import type { StreamResult } from '../../../pipeline/wire/v1.js';
import { freePort, spawnRole, stopChild, type RoleProcess } from '../processes.js';
import { PrivateRedis, type PrivateRedisOptions } from './private-redis.js';

/**
 * What every fault scenario works with: its own Redis (private port and directory), a config file pointing the roles
 * at it and at a free gateway port, role processes (`node bin/posestream.cjs <role>`) whose output is appended to one
 * log file per role, and readers of what the pipeline produced (results by seq, /api/streams, /readyz).
 */

/** Frames of the short lossless clip the suite cuts from the shared squat clip. */
export const LOSSLESS_FRAMES = 200;

let madeClip: { file: string; frames: number } | undefined;

/**
 * The lossless clip (cut once with ffmpeg into build/faults/, 640 px wide, no audio) and its frame count, counted
 * once per process.
 */
export function losslessClip(): { file: string; frames: number } {
  return (madeClip ??= cutLosslessClip());
}

function cutLosslessClip(): { file: string; frames: number } {
  const file = path.join(buildDir, 'faults', `lossless-${LOSSLESS_FRAMES}.mp4`);
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    const cut = spawnSync(
      'ffmpeg',
      ['-loglevel', 'error', '-y', '-i', assetPath('squatVideo'), '-frames:v', String(LOSSLESS_FRAMES), '-vf', 'scale=640:-2', '-an', '-c:v', 'libx264', '-preset', 'veryfast', '-g', '30', file],
      { encoding: 'utf8' },
    );
    if (cut.status !== 0) throw new PosestreamError('PS_BENCH_TOOL_FAILED', `ffmpeg could not cut the lossless clip: ${cut.stderr || cut.error?.message}`);
  }
  const probe = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  const frames = Number(probe.stdout.trim());
  return { file, frames: Number.isFinite(frames) && frames > 0 ? frames : LOSSLESS_FRAMES };
}

export interface SeqCount {
  expected: number;
  got: number;
  /** Frames (seqs 0..expected-1) without a result. */
  missing: number;
  /** Results beyond one per frame (got = expected - missing + duplicated). */
  duplicated: number;
  /** Pose results whose seq is outside 0..expected-1 (a file started again from frame 0 with seq counting on). */
  beyond: number;
  ended: boolean;
}

/** Counts a lossless stream's pose results by seq against the frames of its source (seq = frame index). */
export function countSeqs(results: StreamResult[], expected: number): SeqCount {
  const seqs = results.flatMap((r) => (r.kind === 'pose' ? [r.seq] : []));
  const unique = new Set(seqs);
  let missing = 0;
  for (let seq = 0; seq < expected; seq += 1) if (!unique.has(seq)) missing += 1;
  const covered = expected - missing;
  return {
    expected,
    got: seqs.length,
    missing,
    // Results beyond one per frame: the same seq twice, or a frame inferred again under a new seq.
    duplicated: seqs.length - covered,
    beyond: [...unique].filter((seq) => seq >= expected).length,
    ended: results.at(-1)?.kind === 'eos',
  };
}

export interface FaultConfig {
  streams: StreamConfigInput[];
  redis?: Omit<PrivateRedisOptions, 'port' | 'dir'>;
  /** Extra top-level config sections (merged over the defaults). */
  extra?: Record<string, unknown>;
}

export class FaultContext {
  readonly dir: string;
  readonly redis: PrivateRedis;
  readonly configFile: string;
  readonly gatewayUrl: string;
  private readonly children: Array<{ role: string; child: RoleProcess }> = [];
  private readonly started = Date.now();

  private constructor(dir: string, redis: PrivateRedis, configFile: string, gatewayUrl: string) {
    this.dir = dir;
    this.redis = redis;
    this.configFile = configFile;
    this.gatewayUrl = gatewayUrl;
  }

  static async create(name: string, model: string, config: FaultConfig): Promise<FaultContext> {
    const dir = mkdtempSync(path.join(tmpdir(), `posestream-faults-${name}-`));
    const [redisPort, gatewayPort] = [await freePort(), await freePort()];
    const redis = new PrivateRedis({ port: redisPort, dir: path.join(dir, 'redis'), ...config.redis });
    const configFile = path.join(dir, 'posestream.yaml');
    writeFileSync(
      configFile,
      stringify({
        redis: { url: redis.url },
        model: { path: path.resolve(model), cacheDir: path.join(buildDir, 'ov-cache') },
        worker: { batchSize: 2, inferRequests: 1, claimIdleMs: 3_000 },
        ingest: { backoffInitialMs: 200, backoffMaxMs: 2_000, stallTimeoutSec: 5 },
        gateway: { host: '127.0.0.1', port: gatewayPort },
        ...config.extra,
        streams: config.streams,
      }),
    );
    await redis.start();
    return new FaultContext(dir, redis, configFile, `http://127.0.0.1:${gatewayPort}`);
  }

  /** Starts `posestream <role>` (log level info, appended to <dir>/<role>.log). */
  spawn(role: 'ingest' | 'worker' | 'gateway' | 'run'): RoleProcess {
    const child = spawnRole(role, this.configFile, { logFile: path.join(this.dir, `${role}.log`), logLevel: 'info' });
    this.children.push({ role, child });
    return child;
  }

  /** Every role's log so far, each line with its file (for the credential and "Unhandled error" checks). */
  logs(): Array<{ role: string; text: string }> {
    return readdirSync(this.dir)
      .filter((name) => name.endsWith('.log'))
      .map((name) => ({ role: name.replace(/\.log$/, ''), text: readFileSync(path.join(this.dir, name), 'utf8') }));
  }

  /** Log lines of one role whose message matches. */
  logLines(role: string, message: RegExp): string[] {
    const file = path.join(this.dir, `${role}.log`);
    if (!existsSync(file) || statSync(file).size === 0) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => {
        try {
          return message.test(String((JSON.parse(line) as { msg?: string }).msg ?? ''));
        } catch {
          return message.test(line);
        }
      });
  }

  elapsedS(since = this.started): number {
    return (Date.now() - since) / 1000;
  }

  /** Every result of a stream still retained in Redis, oldest first. */
  async results(streamId: string): Promise<StreamResult[]> {
    return this.redis.command(async (redis) => {
      const reader = new ResultReader(redis);
      const all: StreamResult[] = [];
      let afterId: string | undefined;
      for (;;) {
        const page = await reader.replay(streamId, { ...(afterId ? { afterId } : {}), count: 1000 });
        all.push(...page.map((entry) => entry.result));
        if (page.length < 1000) return all;
        afterId = page.at(-1)!.entryId;
      }
    });
  }

  async resultCount(streamId: string): Promise<number> {
    return this.redis.command((redis) => redis.xlen(keys.results(streamId))).catch(() => 0);
  }

  /** GET on the gateway: status and parsed body (status 0 when it did not answer within timeoutMs). */
  async get(pathname: string, timeoutMs = 3_000): Promise<{ status: number; body: unknown; ms: number }> {
    return this.request('GET', pathname, undefined, timeoutMs);
  }

  async request(method: string, pathname: string, body: unknown, timeoutMs = 3_000): Promise<{ status: number; body: unknown; ms: number }> {
    const start = Date.now();
    try {
      const response = await fetch(`${this.gatewayUrl}${pathname}`, {
        method,
        signal: AbortSignal.timeout(timeoutMs),
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, body: parsed, ms: Date.now() - start };
    } catch {
      return { status: 0, body: undefined, ms: Date.now() - start };
    }
  }

  /** The gateway's view of one stream's state (`state` field), or undefined. */
  async streamState(streamId: string): Promise<{ state: string; owner?: string } | undefined> {
    const { status, body } = await this.get('/api/streams');
    if (status !== 200) return undefined;
    const stream = (body as { streams: Array<{ id: string; state: { state: string; owner?: string } | null }> }).streams.find((s) => s.id === streamId);
    return stream?.state ?? undefined;
  }

  /** Polls `probe` until it returns a value, or undefined after timeoutMs. */
  async waitFor<T>(timeoutMs: number, probe: () => Promise<T | undefined>, everyMs = 250): Promise<T | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe().catch(() => undefined);
      if (value !== undefined) return value;
      if (Date.now() > deadline) return undefined;
      await sleep(everyMs);
    }
  }

  /**
   * What a WebSocket client that (re)connects now gets for a stream: subscribe to results `fromStart` and collect
   * until the end-of-stream (or timeoutMs).
   */
  async wsResults(streamId: string, timeoutMs: number): Promise<StreamResult[]> {
    const { default: WebSocket } = await import('ws');
    const socket = new WebSocket(`${this.gatewayUrl.replace(/^http/, 'ws')}/ws`);
    const results: StreamResult[] = [];
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        socket.terminate();
        resolve(results);
      };
      const timer = setTimeout(done, timeoutMs);
      socket.on('error', done);
      socket.on('open', () => socket.send(JSON.stringify({ v: 1, type: 'subscribe', id: 'faults', streams: [streamId], channels: ['results'], fromStart: true })));
      socket.on('message', (data, binary) => {
        if (binary) return;
        const message = JSON.parse(String(data)) as { type: string; result?: StreamResult };
        if (message.type !== 'result' || !message.result) return;
        results.push(message.result);
        if (message.result.kind === 'eos') done();
      });
    });
  }

  /** Waits for a lossless stream's end-of-stream result. */
  async waitForEnd(streamId: string, timeoutMs: number): Promise<boolean> {
    const ended = await this.waitFor(timeoutMs, async () => ((await this.results(streamId)).at(-1)?.kind === 'eos' ? true : undefined), 1_000);
    return ended === true;
  }

  /** Stops every role (SIGTERM, then SIGKILL after 12 s) and the Redis; returns the exit of each role. */
  async close(): Promise<Record<string, number | string>> {
    const exits: Record<string, number | string> = {};
    await Promise.all(this.children.map(async ({ role, child }, i) => (exits[`${role}#${i}`] = await stopChild(child, 12_000))));
    await this.redis.stop();
    return exits;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
