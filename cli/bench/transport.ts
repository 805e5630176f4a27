import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { repoRoot } from '../../pipeline/assets.js';
import { PosestreamError } from '../../pipeline/errors.js';
import type { RedisTarget } from '../../pipeline/redis/client.js';
import { processSample } from './processes.js';
import { summarize } from './stats.js';
import type { TransportClientResult, TransportClientSpec } from './transport-client.js';
import { FOLLOW_INTERVAL_MS, measureFollow, type FollowRun } from './transport-follow.js';
import { measureWaitCost, type WaitCost } from './transport-wait.js';

/**
 * `posestream bench transport`: raw frames through the frame path (publish -> read -> ack, cli/bench/
 * transport-client.ts) with synthetic frames, on one Redis and on a 3-shard Redis Cluster, both started here on
 * private ports (or a given cluster). The same client processes run against each; reported are frames/s and MB/s
 * acknowledged, and the CPU each Redis server and the clients used over the window, so the ratio can be read
 * against the cores it took. With --replicas the cluster also runs with one replica per shard, without and with
 * WAIT on every publish and ack (what redis.losslessReplicas costs on the frame path).
 */

export interface TransportRun {
  name: string;
  /** Why the run gave no numbers (a client process failed); the numbers are then 0. */
  failed?: string;
  frames_per_s: number;
  mb_per_s: number;
  /** Cores (CPU seconds per second) per Redis server, masters first. */
  redis_cores: number[];
  clients_cores: number;
  /** Round trips of a lossless publish and of an ack commit (the WAIT runs include the wait for a replica). */
  publish_ms: { p50: number; p99: number };
  ack_ms: { p50: number; p99: number };
  errors: number;
  /** The multi-stream read path following many mostly idle streams (pipeline/redis/stream-reads.ts). */
  follow: FollowRun;
  /** Runs whose masters have replicas: one commit's round trip without and with WAIT 1. */
  wait_cost?: WaitCost;
}


export interface TransportBenchResult {
  frame_bytes: number;
  streams: number;
  clients: number;
  seconds: number;
  runs: TransportRun[];
  /** cluster frames/s over single frames/s. */
  ratio: number;
  cpus: number;
  load_before: number[];
}

export interface TransportBenchOptions {
  seconds: number;
  warmup: number;
  /** Streams followed in the follow phase, one entry every followIntervalMs to one of them. */
  followStreams: number;
  followSeconds: number;
  streams: number;
  clients: number;
  frameBytes: number;
  queueLength: number;
  /** Measure this cluster (it is FLUSHED) instead of starting one. */
  cluster?: string[];
  /** Also run the cluster with one replica per shard, without and with WAIT. */
  replicas: boolean;
}

interface Deployment {
  name: string;
  target: RedisTarget;
  /** PIDs of the servers whose CPU is reported. */
  pids: number[];
  /** Its masters have replicas (then the cost of WAIT is measured too). */
  replicas: boolean;
  waitReplicas: number;
  stop(): Promise<void>;
}

export async function runTransportBench(options: TransportBenchOptions): Promise<TransportBenchResult> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const { cpus, loadavg } = await import('node:os');
  const loadBefore = loadavg();
  const plans: Array<() => Promise<Deployment>> = [
    () => startSingle(),
    () => (options.cluster ? useCluster(options.cluster) : startCluster({ replicas: 0, name: 'cluster 3 shards' })),
  ];
  if (options.replicas && !options.cluster) {
    plans.push(() => startCluster({ replicas: 1, name: 'cluster 3 shards + replicas' }));
    plans.push(() => startCluster({ replicas: 1, name: 'cluster 3 shards + replicas, WAIT 1', waitReplicas: 1 }));
  }
  const runs: TransportRun[] = [];
  for (const plan of plans) {
    const deployment = await plan();
    try {
      log(`transport: ${deployment.name}: ${options.streams} streams, ${options.clients} client processes, ${options.warmup} s warm-up + ${options.seconds} s`);
      const run: TransportRun = { ...(await measure(deployment, options)), follow: await measureFollow(deployment, options) };
      if (deployment.replicas) run.wait_cost = await measureWaitCost(deployment.target);
      runs.push(run);
      log(`transport: ${deployment.name}: ${run.frames_per_s.toFixed(0)} frames/s, ${run.mb_per_s.toFixed(0)} MB/s; follow p50 ${run.follow.latency_p50_ms.toFixed(1)} ms`);
    } catch (error) {
      // One failed run (a stuck client) should not cost the others' numbers.
      const failed = error instanceof Error ? error.message : String(error);
      log(`transport: ${deployment.name}: FAILED: ${failed}`);
      runs.push(failedRun(deployment.name, failed, options.followStreams));
    } finally {
      await deployment.stop();
    }
  }
  return {
    frame_bytes: options.frameBytes,
    streams: options.streams,
    clients: options.clients,
    seconds: options.seconds,
    runs,
    ratio: runs[0]!.failed || runs[1]!.failed ? Number.NaN : runs[1]!.frames_per_s / runs[0]!.frames_per_s,
    cpus: cpus().length,
    load_before: loadBefore.map((l) => Number(l.toFixed(2))),
  };
}

function failedRun(name: string, failed: string, streams: number): TransportRun {
  const none = { p50: Number.NaN, p99: Number.NaN };
  return {
    name,
    failed,
    frames_per_s: 0,
    mb_per_s: 0,
    redis_cores: [],
    clients_cores: 0,
    publish_ms: none,
    ack_ms: none,
    errors: 0,
    follow: { streams, entries_per_s: 0, latency_p50_ms: Number.NaN, latency_p99_ms: Number.NaN, rounds_per_s: 0, redis_cores: 0, reader_cores: 0 },
  };
}

function p50p99(samples: number[]): { p50: number; p99: number } {
  const { p50, p99 } = summarize(samples);
  return { p50, p99 };
}

async function measure(deployment: Deployment, options: TransportBenchOptions): Promise<Omit<TransportRun, 'follow'>> {
  const { flushEverything } = await import('./transport-servers.js');
  await flushEverything(deployment.target);
  const streamIds = Array.from({ length: options.streams }, (_, i) => `t-${i}`);
  const startAt = Date.now() + 1_500 + options.warmup * 1000;
  const endAt = startAt + options.seconds * 1000;
  const shares = Array.from({ length: options.clients }, (_, c) => streamIds.filter((_id, i) => i % options.clients === c)).filter((ids) => ids.length > 0);
  const serverCpu = (pids: number[]) => pids.map((pid) => processSample(pid).cpuSeconds);
  let cpuStart: number[] = [];
  const startTimer = setTimeout(() => (cpuStart = serverCpu(deployment.pids)), startAt - Date.now());
  const results = await Promise.all(
    shares.map((ids) =>
      runClientProcess({
        redis: deployment.target,
        streamIds: ids,
        frameBytes: options.frameBytes,
        startAt,
        endAt,
        waitReplicas: deployment.waitReplicas,
        queueLength: options.queueLength,
      }),
    ),
  );
  clearTimeout(startTimer);
  const cpuEnd = serverCpu(deployment.pids);
  // The clients ran past endAt by at most one round; the servers are sampled when the last client is done.
  const elapsed = Math.max(options.seconds, (Date.now() - startAt) / 1000);
  const frames = results.reduce((sum, r) => sum + r.frames, 0);
  return {
    name: deployment.name,
    frames_per_s: frames / options.seconds,
    mb_per_s: (frames * options.frameBytes) / options.seconds / 1e6,
    redis_cores: cpuEnd.map((end, i) => (end - (cpuStart[i] ?? end)) / elapsed),
    clients_cores: results.reduce((sum, r) => sum + r.cpuSeconds, 0) / elapsed,
    publish_ms: p50p99(results.flatMap((r) => r.publishMs)),
    ack_ms: p50p99(results.flatMap((r) => r.ackMs)),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
  };
}

/** `posestream bench transport --client <spec>` in a child process; its last stdout line is the result JSON. */
function runClientProcess(spec: TransportClientSpec): Promise<TransportClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'posestream.cjs'), 'bench', 'transport', '--client', JSON.stringify(spec)], {
      cwd: repoRoot,
      env: { ...process.env, POSESTREAM_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    // A client that has not reported a minute after its window is stuck: stop it and fail the run.
    const deadline = setTimeout(() => child.kill('SIGKILL'), Math.max(0, spec.endAt - Date.now()) + 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(deadline);
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as TransportClientResult);
      else reject(new PosestreamError('PS_BENCH_TOOL_FAILED', `transport client exited ${code}: ${stderr.trim().slice(-1000)}`));
    });
  });
}

/** One redis-server on a free port, no persistence, noeviction (the deployment settings). */
async function startSingle(): Promise<Deployment> {
  const port = await freePorts(1);
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
  const { waitForPing } = await import('./transport-servers.js');
  await waitForPing(`redis://127.0.0.1:${port}`);
  return {
    name: 'single',
    target: { url: `redis://127.0.0.1:${port}` },
    pids: [server.pid!],
    replicas: false,
    waitReplicas: 0,
    async stop() {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
    },
  };
}

/** scripts/redis-cluster.sh on free ports: 3 masters, with or without a replica each. */
async function startCluster(options: { replicas: 0 | 1; name: string; waitReplicas?: number }): Promise<Deployment> {
  const count = 3 * (1 + options.replicas);
  const base = await freePorts(count);
  const env = { ...process.env, POSESTREAM_REDIS_CLUSTER_PORT: String(base), POSESTREAM_REDIS_CLUSTER_MASTERS: '3', POSESTREAM_REDIS_CLUSTER_REPLICAS: String(options.replicas) };
  const script = path.join(repoRoot, 'scripts', 'redis-cluster.sh');
  const started = await runScript(script, 'start', env);
  if (started.code !== 0) throw new PosestreamError('PS_BENCH_TOOL_FAILED', `could not start a cluster on ports ${base}..: ${started.stderr.trim()}`);
  const ports = Array.from({ length: count }, (_, i) => base + i);
  const { serverPid, mastersFirst } = await import('./transport-servers.js');
  const urls = ports.map((port) => `redis://127.0.0.1:${port}`);
  return {
    name: options.name,
    target: { cluster: urls },
    pids: await Promise.all((await mastersFirst(urls)).map(serverPid)),
    replicas: options.replicas > 0,
    waitReplicas: options.waitReplicas ?? 0,
    async stop() {
      await runScript(script, 'stop', env);
      rmSync(path.join(repoRoot, 'build', `redis-cluster-${base}`), { recursive: true, force: true });
    },
  };
}

async function useCluster(urls: string[]): Promise<Deployment> {
  const { serverPid, mastersFirst } = await import('./transport-servers.js');
  const masters = await mastersFirst(urls);
  return {
    name: `cluster (${masters.length} given nodes)`,
    target: { cluster: urls },
    pids: await Promise.all(masters.map(serverPid)),
    replicas: masters.length < urls.length,
    waitReplicas: 0,
    stop: async () => undefined,
  };
}

function runScript(script: string, action: string, env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn('bash', [script, action], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

/** A run of `count` consecutive free ports whose cluster bus ports (+10000) are free too; returns the first. */
async function freePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if ((await Promise.all([...ports, ...ports.map((p) => p + 10_000)].map(portFree))).every(Boolean)) return base;
  }
  throw new PosestreamError('PS_BENCH_TOOL_FAILED', `no ${count} consecutive free ports found`);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export function formatTransportBench(r: TransportBenchResult): string {
  const mb = (r.frame_bytes / 1e6).toFixed(3);
  const lines = [`transport: ${r.streams} streams of ${mb} MB frames (publish -> read -> ack, lossless), ${r.clients} client processes, ${r.seconds} s per run`];
  for (const run of r.runs) {
    if (run.failed) {
      lines.push(`  ${run.name.padEnd(36)} FAILED: ${run.failed}`);
      continue;
    }
    const redis = run.redis_cores.map((c) => c.toFixed(2)).join(' + ');
    lines.push(
      `  ${run.name.padEnd(36)} ${run.frames_per_s.toFixed(0).padStart(6)} frames/s ${run.mb_per_s.toFixed(0).padStart(6)} MB/s   publish p50 ${run.publish_ms.p50.toFixed(2)} ms, ack p50 ${run.ack_ms.p50.toFixed(2)} ms (p99 ${run.publish_ms.p99.toFixed(1)} / ${run.ack_ms.p99.toFixed(1)});` +
        ` redis cores ${redis} = ${sum(run.redis_cores).toFixed(2)}, clients ${run.clients_cores.toFixed(2)}${run.errors ? `, ${run.errors} errors` : ''}`,
    );
  }
  lines.push(`follow: one reader over ${r.runs[0]!.follow.streams} streams, one entry every ${FOLLOW_INTERVAL_MS} ms to one of them (XADD -> read)`);
  for (const run of r.runs.filter((run) => !run.failed)) {
    const f = run.follow;
    lines.push(
      `  ${run.name.padEnd(36)} latency p50 ${f.latency_p50_ms.toFixed(1)} ms, p99 ${f.latency_p99_ms.toFixed(1)} ms; ${f.rounds_per_s.toFixed(0)} read rounds/s; redis cores ${f.redis_cores.toFixed(3)}, reader process ${f.reader_cores.toFixed(3)}`,
    );
  }
  for (const run of r.runs.filter((run) => run.wait_cost)) {
    const w = run.wait_cost!;
    lines.push(
      `WAIT 1 (${run.name}, ${w.rounds} commits each way, alternating): commit round trip p50 ${w.plain_ms.p50.toFixed(3)} -> ${w.wait_ms.p50.toFixed(3)} ms, p99 ${w.plain_ms.p99.toFixed(2)} -> ${w.wait_ms.p99.toFixed(2)} ms${w.short ? `; ${w.short} not confirmed` : ''}`,
    );
  }
  const [single, cluster] = r.runs;
  lines.push(
    `ratio cluster/single = ${r.ratio.toFixed(2)} frames/s, using ${(sum(cluster!.redis_cores) / sum(single!.redis_cores)).toFixed(2)}x the Redis cores (${r.cpus} CPUs here; load before ${r.load_before.join(' ')})`,
  );
  return lines.join('\n');
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

