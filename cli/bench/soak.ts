import { assetPath } from '../../pipeline/assets.js';
import { freePort, processSample, spawnRole, stopChild } from './processes.js';

/**
 * `posestream bench soak`: 4 live looping streams through `posestream ingest`, `worker` and `gateway` as three child
 * processes, with one WebSocket client taking every stream's results and annotated frames, for --minutes (default
 * 10). Samples Redis used_memory and each process's RSS; memory is bounded when the end is close to the start.
 */

export interface SoakSample {
  atS: number;
  /** used_memory of the whole Redis server (other DBs on a shared server count too). */
  redisUsedMb: number;
  /** MEMORY USAGE summed over this benchmark's DB: what posestream itself keeps in Redis. */
  dbKeysMb: number;
  rssMb: Record<string, number>;
  /** Results published by the workers since the previous sample, per second. */
  resultsPerS: number;
  wsMessages: number;
}

export interface SoakBenchResult {
  samples: SoakSample[];
  growth: Record<string, { startMb: number; endMb: number; deltaMb: number; ratio: number }>;
  exitCodes: Record<string, number | string>;
  model: string;
  minutes: number;
  retention: number;
  load_before: number[];
}

const ROLES = ['ingest', 'worker', 'gateway'] as const;

export async function runSoakBench(options: { model: string; minutes: number; samples: number; retention: number; warmupS: number; redisUrl: string }): Promise<SoakBenchResult> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const { loadavg } = await import('node:os');
  const { Redis } = await import('ioredis');
  const { default: WebSocket } = await import('ws');
  const { keys } = await import('../../pipeline/redis/keys.js');
  const { replyRecord } = await import('../../pipeline/redis/codec.js');
  const { writeBenchConfig, sleep } = await import('./pipeline-support.js');
  const loadBefore = loadavg();

  const port = await freePort();
  const streams = [
    { id: 'walking', url: assetPath('walkingVideo') },
    { id: 'street', url: assetPath('streetVideo') },
    { id: 'squat', url: assetPath('squatVideo') },
    { id: 'walking-2', url: assetPath('walkingVideo') },
  ].map((s) => ({ ...s, mode: 'live' as const, loop: true }));
  const { file } = writeBenchConfig({ redisUrl: options.redisUrl, model: options.model, streams, gatewayPort: port, retention: options.retention });
  const redis = new Redis(options.redisUrl);
  await redis.flushdb();

  const children = new Map(ROLES.map((role) => [role, spawnRole(role, file)] as const));
  const rssMb = (pid: number | undefined): number => processSample(pid).rssMb;
  const usedMb = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]) / 1024 / 1024;
  const dbKeysMb = async () => {
    let bytes = 0;
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'COUNT', 200);
      cursor = next;
      for (const key of found) bytes += Number((await redis.memory('USAGE', key, 'SAMPLES', '0')) ?? 0);
    } while (cursor !== '0');
    return bytes / 1024 / 1024;
  };
  // One viewer of everything, so preview entries and JPEG encoding are part of the soak.
  let wsMessages = 0;
  const client = await (async () => {
    for (let attempt = 0; attempt < 120; attempt += 1) {
      try {
        return await new Promise<InstanceType<typeof WebSocket>>((resolve, reject) => {
          const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
          socket.once('open', () => resolve(socket));
          socket.once('error', reject);
        });
      } catch {
        await sleep(500);
      }
    }
    throw new Error(`the gateway did not listen on ${port} within 60 s: ${children.get('gateway')!.tail()}`);
  })();
  client.on('message', () => (wsMessages += 1));
  client.send(JSON.stringify({ v: 1, type: 'subscribe', streams: ['*'], channels: ['results', 'frames'] }));

  // Results entries ever added (XINFO STREAM "entries-added"), for the rate between samples.
  const entriesAdded = async () => {
    let total = 0;
    for (const s of streams) {
      const info = replyRecord(await redis.xinfo('STREAM', keys.results(s.id)).catch(() => []));
      total += Number(info['entries-added'] ?? 0);
    }
    return total;
  };

  const { warmupS } = options;
  log(`soak: 4 live streams, ${options.minutes} min; first sample after ${warmupS} s`);
  await sleep(warmupS * 1000);
  const t0 = Date.now();
  const samples: SoakSample[] = [];
  let lastAdded = await entriesAdded();
  let lastAt = Date.now();
  const take = async () => {
    const added = await entriesAdded();
    const now = Date.now();
    const sample: SoakSample = {
      atS: Math.round((now - t0) / 1000),
      redisUsedMb: await usedMb(),
      dbKeysMb: await dbKeysMb(),
      rssMb: Object.fromEntries(ROLES.map((role) => [role, rssMb(children.get(role)!.pid)])),
      resultsPerS: samples.length === 0 ? Number.NaN : (added - lastAdded) / ((now - lastAt) / 1000),
      wsMessages,
    };
    lastAdded = added;
    lastAt = now;
    samples.push(sample);
    log(`soak: ${formatSample(sample)}`);
  };
  await take();
  const intervalMs = (options.minutes * 60_000) / options.samples;
  for (let i = 1; i <= options.samples; i += 1) {
    await sleep(t0 + i * intervalMs - Date.now());
    await take();
  }

  client.close();
  const exitCodes: Record<string, number | string> = {};
  for (const role of ROLES) exitCodes[role] = await stopChild(children.get(role)!, 20_000);
  redis.disconnect();

  const first = samples[0]!;
  const last = samples.at(-1)!;
  const growth: SoakBenchResult['growth'] = {
    redis: { startMb: first.redisUsedMb, endMb: last.redisUsedMb, deltaMb: last.redisUsedMb - first.redisUsedMb, ratio: last.redisUsedMb / first.redisUsedMb },
    'DB keys': { startMb: first.dbKeysMb, endMb: last.dbKeysMb, deltaMb: last.dbKeysMb - first.dbKeysMb, ratio: last.dbKeysMb / first.dbKeysMb },
  };
  for (const role of ROLES) {
    const start = first.rssMb[role]!;
    const end = last.rssMb[role]!;
    growth[role] = { startMb: start, endMb: end, deltaMb: end - start, ratio: end / start };
  }
  return { samples, growth, exitCodes, model: options.model, minutes: options.minutes, retention: options.retention, load_before: loadBefore.map((l) => Number(l.toFixed(2))) };
}

function formatSample(s: SoakSample): string {
  const rss = ROLES.map((role) => `${role} ${s.rssMb[role]!.toFixed(0)} MB`).join(', ');
  const rate = Number.isNaN(s.resultsPerS) ? '' : `, ${s.resultsPerS.toFixed(1)} results/s`;
  return `t=${s.atS}s redis ${s.redisUsedMb.toFixed(1)} MB (this DB ${s.dbKeysMb.toFixed(1)} MB), ${rss}${rate}, ws messages ${s.wsMessages}`;
}

export function formatSoakBench(r: SoakBenchResult): string {
  const header = ['t (s)', 'redis MB', 'DB keys MB', ...ROLES.map((role) => `${role} RSS MB`), 'results/s'];
  const rows = r.samples.map((s) => [
    String(s.atS),
    s.redisUsedMb.toFixed(1),
    s.dbKeysMb.toFixed(1),
    ...ROLES.map((role) => s.rssMb[role]!.toFixed(0)),
    Number.isNaN(s.resultsPerS) ? '-' : s.resultsPerS.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  const growth = Object.entries(r.growth).map(([name, g]) => `  ${name.padEnd(8)} start ${g.startMb.toFixed(1)} MB  end ${g.endMb.toFixed(1)} MB  delta ${g.deltaMb >= 0 ? '+' : ''}${g.deltaMb.toFixed(1)} MB (x${g.ratio.toFixed(3)})`);
  return [
    `soak: 4 live looping streams, ${r.minutes} min, results.retention ${r.retention}/stream, model ${r.model}; load before ${r.load_before.join(' ')}`,
    line(header),
    ...rows.map(line),
    'start -> end:',
    ...growth,
    `exit after SIGTERM: ${Object.entries(r.exitCodes).map(([role, code]) => `${role} ${code}`).join(', ')}`,
  ].join('\n');
}
