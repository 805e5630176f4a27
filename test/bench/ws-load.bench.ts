/**
 * WebSocket load on the gateway (a script, not a test):
 *   node --import tsx test/bench/ws-load.bench.ts [--seconds 20] [--clients 50] [--fps 10] [--db 46] [--source pipeline|synthetic]
 *
 * Runs `posestream ingest`, `posestream worker` and `posestream gateway` as separate child processes on 4 looping
 * shared videos (live), so the gateway's CPU and RSS can be read from /proc/<pid>. Then three phases of equal length:
 *   baseline     50 clients subscribed to the results of all 4 streams;
 *   +stalled     the same plus one client that subscribes to the same results and never reads (socket paused);
 *   +stalled-fr  the same plus one more that also subscribes to annotated frames and never reads;
 *   after        once the heartbeat has closed the stalled clients.
 * With --source synthetic, this script publishes the results itself (as a worker would, with preview frames while
 * watched) instead of running ingest and worker: the gateway's own limits, independent of the pipeline's speed.
 * Prints p50/p99 publish-to-receive delay (worker publishedTs -> message received here) of the 50 reading clients,
 * the gateway's CPU (% of one core) and RSS, and what was dropped for the stalled clients, side by side.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { stringify } from 'yaml';
import { assetPath, defaultModelPaths, repoRoot } from '../../pipeline/assets.js';
import { keys } from '../../pipeline/redis/keys.js';
import { ResultPublisher } from '../../pipeline/redis/result-stream.js';
import type { FrameMeta } from '../../pipeline/wire/v1.js';
import { processSample, spawnRole, stopChild } from '../../cli/bench/processes.js';
import { summarize } from '../../cli/bench/stats.js';
import { freePort, testArtifactsDir, testRedisUrl } from '../support/env.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    clients: { type: 'string', default: '50' },
    fps: { type: 'string', default: '10' },
    db: { type: 'string', default: '46' },
    /** pipeline: ingest + worker on the shared videos; synthetic: this script publishes results like a worker. */
    source: { type: 'string', default: 'pipeline' },
  },
});
const SYNTHETIC = args.source === 'synthetic';
const PHASE_SECONDS = Number(args.seconds);
const CLIENTS = Number(args.clients);
const FPS = Number(args.fps);
const DB = Number(args.db);
const STREAMS = [
  { id: 'walking', url: assetPath('walkingVideo') },
  { id: 'squat', url: assetPath('squatVideo') },
  { id: 'street', url: assetPath('streetVideo') },
  { id: 'walking-2', url: assetPath('walkingVideo') },
];
const model = existsSync(defaultModelPaths.int8) ? defaultModelPaths.int8 : defaultModelPaths.fp32;


/**
 * Publishes results (3 persons each) for every stream at FPS, the way a worker does (ResultPublisher in a MULTI),
 * with a preview frame while the gateway marks the stream as watched. Isolates the gateway from the pipeline's speed.
 */
function startSyntheticResults(redisUrl: string): () => void {
  const redis = new Redis(redisUrl);
  const publisher = new ResultPublisher({ retention: 10_000 });
  const width = 640;
  const height = 360;
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7) % 251;
  const person = (i: number) => ({
    box: [100 + i * 150, 60, 200 + i * 150, 340] as [number, number, number, number],
    score: 0.9,
    keypoints: Array.from({ length: 17 }, (_, k) => [120 + i * 150 + (k % 5) * 15, 70 + k * 15, 0.9] as [number, number, number]),
  });
  let seq = 0;
  let watched = new Set<string>();
  const viewersTimer = setInterval(async () => {
    const flags = await Promise.all(STREAMS.map((s) => redis.exists(keys.viewers(s.id))));
    watched = new Set(STREAMS.filter((_, i) => flags[i]).map((s) => s.id));
  }, 500);
  const timer = setInterval(() => {
    const multi = redis.multi();
    const now = Date.now();
    for (const stream of STREAMS) {
      const meta: FrameMeta = { v: 1, streamId: stream.id, seq, captureTs: now - 40, publishTs: now - 30, decodeMs: 3, width, height, sourceWidth: width, sourceHeight: height, format: 'rgb24' };
      publisher.addInto(
        multi,
        { v: 1, kind: 'pose', streamId: stream.id, seq, captureTs: now - 40, sourceWidth: width, sourceHeight: height, persons: [0, 1, 2].map(person), timings: { decodeMs: 3, queueMs: 10, inferMs: 25, postMs: 2 }, worker: 'synthetic', publishedTs: now },
        watched.has(stream.id) ? { meta, pixels } : undefined,
      );
    }
    seq += 1;
    void multi.exec();
  }, 1000 / FPS);
  return () => {
    clearInterval(timer);
    clearInterval(viewersTimer);
    redis.disconnect();
  };
}


interface LoadClient {
  ws: WebSocket;
  delays: number[];
  received: number;
}

function connectClient(url: string, subscribe: object, stalled = false): Promise<LoadClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const client: LoadClient = { ws, delays: [], received: 0 };
    ws.on('message', (data, isBinary) => {
      const now = Date.now();
      client.received += 1;
      if (isBinary) return;
      const message = JSON.parse(data.toString()) as { type: string; result?: { kind: string; publishedTs: number } };
      if (message.type === 'hello') {
        ws.send(JSON.stringify(subscribe));
      } else if (message.type === 'subscribed') {
        if (stalled) (ws as unknown as { _socket: { pause(): void } })._socket.pause();
        resolve(client);
      } else if (message.type === 'result' && message.result?.kind === 'pose') {
        client.delays.push(now - message.result.publishedTs);
      }
    });
    ws.once('error', reject);
  });
}

async function metric(baseUrl: string, pattern: RegExp): Promise<number> {
  const text = await fetch(`${baseUrl}/metrics`).then((r) => r.text());
  let total = 0;
  for (const line of text.split('\n')) if (pattern.test(line)) total += Number(line.split(' ').pop());
  return total;
}

interface PhaseReport {
  name: string;
  results: number;
  p50: number;
  p99: number;
  max: number;
  cpuPercent: number;
  rssStartMb: number;
  rssEndMb: number;
  rssMaxMb: number;
  wsDropped: number;
  heartbeatClosed: number;
  pipelineResultsPerSecond: number;
}

async function runPhase(name: string, baseUrl: string, gatewayPid: number, clients: LoadClient[]): Promise<PhaseReport> {
  for (const client of clients) client.delays.length = 0;
  const droppedBefore = await metric(baseUrl, /^posestream_ws_dropped_messages_total/);
  const resultsBefore = await metric(baseUrl, /^posestream_results_total/);
  const closedBefore = await metric(baseUrl, /^posestream_ws_rejected_total\{reason="heartbeat"\}/);
  const start = processSample(gatewayPid);
  const startedAt = Date.now();
  let rssMax = start.rssMb;
  while (Date.now() - startedAt < PHASE_SECONDS * 1000) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    rssMax = Math.max(rssMax, processSample(gatewayPid).rssMb);
  }
  const end = processSample(gatewayPid);
  const wall = (Date.now() - startedAt) / 1000;
  const delays = summarize(clients.flatMap((c) => c.delays));
  return {
    name,
    results: delays.count,
    p50: delays.p50,
    p99: delays.p99,
    max: delays.max,
    cpuPercent: ((end.cpuSeconds - start.cpuSeconds) / wall) * 100,
    rssStartMb: start.rssMb,
    rssEndMb: end.rssMb,
    rssMaxMb: rssMax,
    wsDropped: (await metric(baseUrl, /^posestream_ws_dropped_messages_total/)) - droppedBefore,
    pipelineResultsPerSecond: ((await metric(baseUrl, /^posestream_results_total/)) - resultsBefore) / wall,
    heartbeatClosed: (await metric(baseUrl, /^posestream_ws_rejected_total\{reason="heartbeat"\}/)) - closedBefore,
  };
}

async function main(): Promise<void> {
  const redis = new Redis(testRedisUrl(DB));
  await redis.flushdb();
  redis.disconnect();
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const configFile = path.join(mkdtempSync(path.join(tmpdir(), 'posestream-wsload-')), 'posestream.yaml');
  writeFileSync(
    configFile,
    stringify({
      redis: { url: testRedisUrl(DB) },
      model: { path: model, cacheDir: path.join(repoRoot, 'build', 'ov-cache') },
      gateway: { host: '127.0.0.1', port },
      streams: STREAMS.map((s) => ({ ...s, loop: true, fps: FPS, mode: 'live' })),
    }),
  );
  mkdirSync(testArtifactsDir, { recursive: true });
  // Each role's log goes to build/test-artifacts/ws-load-<role>.log, so the table stays readable.
  const roles = SYNTHETIC ? ['gateway'] : ['gateway', 'worker', 'ingest'];
  const children = roles.map((role) => spawnRole(role, configFile, { logFile: path.join(testArtifactsDir, `ws-load-${role}.log`) }));
  const gatewayPid = children[0]!.pid!;
  const stopSynthetic = SYNTHETIC ? startSyntheticResults(testRedisUrl(DB)) : undefined;
  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const body = (await fetch(`${baseUrl}/api/streams`).then((r) => r.json()).catch(() => ({ streams: [] }))) as { streams: Array<{ stats: { fps: number } }> };
      if (body.streams.length === STREAMS.length && body.streams.every((s) => s.stats.fps > 0)) break;
      if (Date.now() > deadline) throw new Error('the 4 streams did not all produce results within 120 s');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const wsUrl = `ws://127.0.0.1:${port}/ws`;
    const ids = STREAMS.map((s) => s.id);
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, () => connectClient(wsUrl, { v: 1, type: 'subscribe', streams: ids, channels: ['results'] })),
    );
    await new Promise((resolve) => setTimeout(resolve, 5_000)); // warm-up
    const phases: PhaseReport[] = [];
    phases.push(await runPhase(`${CLIENTS} clients`, baseUrl, gatewayPid, clients));
    await connectClient(wsUrl, { v: 1, type: 'subscribe', streams: ids, channels: ['results'] }, true);
    phases.push(await runPhase('+1 stalled (results)', baseUrl, gatewayPid, clients));
    await connectClient(wsUrl, { v: 1, type: 'subscribe', streams: ids, channels: ['results', 'frames'] }, true);
    phases.push(await runPhase('+1 stalled (res+frames)', baseUrl, gatewayPid, clients));
    // The heartbeat closes the stalled clients; then the gateway should be back where it started.
    const closeDeadline = Date.now() + 40_000;
    while ((await metric(baseUrl, /^posestream_ws_clients /)) > CLIENTS && Date.now() < closeDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    phases.push(await runPhase('after stalled closed', baseUrl, gatewayPid, clients));
    const wsClientsNow = await metric(baseUrl, /^posestream_ws_clients /);

    const row = (label: string, values: string[]) => console.log(label.padEnd(34) + values.map((v) => v.padStart(24)).join(''));
    const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
    console.log(`\nws-load: ${CLIENTS} reading clients x ${STREAMS.length} live streams @ ${FPS} fps, ${PHASE_SECONDS} s per phase`);
    if (SYNTHETIC) console.log('source: synthetic results published by this script (no ingest/worker); gateway in its own process');
    else console.log(`model ${path.relative(repoRoot, model)} on CPU (OpenVINO default precision for this IR)`);
    console.log(`${cpus().length} cores; /proc/loadavg at the end: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
    row('', phases.map((p) => p.name));
    row('pipeline results/s (4 streams)', phases.map((p) => fmt(p.pipelineResultsPerSecond)));
    row('results received (all clients)', phases.map((p) => String(p.results)));
    row('delay p50 ms (publish->receive)', phases.map((p) => fmt(p.p50)));
    row('delay p99 ms', phases.map((p) => fmt(p.p99)));
    row('delay max ms', phases.map((p) => fmt(p.max)));
    row('gateway CPU % of one core', phases.map((p) => fmt(p.cpuPercent)));
    row('gateway RSS MB start -> end', phases.map((p) => `${fmt(p.rssStartMb)} -> ${fmt(p.rssEndMb)}`));
    row('gateway RSS MB max', phases.map((p) => fmt(p.rssMaxMb)));
    row('messages dropped (stalled only)', phases.map((p) => String(p.wsDropped)));
    row('stalled clients closed (heartbeat)', phases.map((p) => String(p.heartbeatClosed)));
    const base = phases[0]!;
    for (const phase of phases.slice(1)) {
      console.log(
        `${phase.name}: p99 ratio vs baseline ${fmt(phase.p99 / base.p99, 2)}, RSS max growth ${fmt(phase.rssMaxMb - base.rssMaxMb)} MB`,
      );
    }
    console.log(
      'bound per stalled client: gateway.clientQueueLimit (64) messages + 1 MiB unflushed socket writes ' +
        '(~64 x 40 KB frames + 1 MiB ~= 3.6 MB with frames), until the heartbeat closes it (15-30 s). ' +
        'A frames subscriber also makes the gateway decode previews and encode JPEGs (CPU, encoder buffers).',
    );
    console.log(`ws clients still connected at the end: ${wsClientsNow} (stalled ones are closed after missing two heartbeats)`);
    for (const client of clients) client.ws.terminate();
  } finally {
    stopSynthetic?.();
    // SIGTERM drains; a role still running after 15 s is killed, so no process outlives the script.
    const exits = await Promise.all(children.map((child) => stopChild(child, 15_000)));
    exits.forEach((exit, i) => typeof exit === 'string' && console.error(`${roles[i]}: ${exit}`));
  }
}

await main();
process.exit(0);
