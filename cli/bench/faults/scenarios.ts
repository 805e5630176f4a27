import type { ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import path from 'node:path';
import { assetPath, buildDir, repoRoot } from '../../../pipeline/assets.js';
import { PosestreamError } from '../../../pipeline/errors.js';
import { freePort, stopChild, type RoleProcess } from '../processes.js';
import { annexB, launchRtspServer } from '../rtsp-server.js';
import { countSeqs, FaultContext, losslessClip, sleep, type FaultConfig } from './context.js';

/**
 * The fault scenarios of `posestream bench faults` (issue 10): each starts real processes against its own Redis and
 * gateway port, does one bad thing, and reports whether the pipeline recovered and, for lossless files, how many
 * results are missing or duplicated (counted from the results stream by seq; a lossless seq is the frame index).
 */

export interface ScenarioOutcome {
  name: string;
  ok: boolean;
  /** Seconds from the end of the fault until the pipeline worked again (null: not measured / never). */
  recovery_s: number | null;
  expected: number | null;
  got: number | null;
  missing: number | null;
  duplicated: number | null;
  note: string;
}

export interface Scenario {
  name: string;
  /** Runs in CI (test/integration/faults.test.ts): seconds, not minutes, and no second worker. */
  fast: boolean;
  /** Needs the inference worker (the model). */
  needsModel: boolean;
  run(model: string): Promise<ScenarioOutcome>;
}

const LIVE_TEST_STREAM = { id: 'live', url: 'test://ball', mode: 'live' as const, fps: 5 };
const NO_COUNTS = { expected: null, got: null, missing: null, duplicated: null };
const round1 = (s: number) => Math.round(s * 10) / 10;

/** Runs `body` with a fresh context and always stops its processes and Redis. */
async function withContext(name: string, model: string, config: FaultConfig, body: (ctx: FaultContext) => Promise<ScenarioOutcome>): Promise<ScenarioOutcome> {
  const ctx = await FaultContext.create(name, model, config);
  try {
    return await body(ctx);
  } catch (error) {
    return { name, ok: false, recovery_s: null, ...NO_COUNTS, note: `harness error: ${error instanceof Error ? error.message : String(error)} (logs in ${ctx.dir})` };
  } finally {
    await ctx.close();
  }
}

/** A scenario's outcome without its name (defineScenario adds it). */
type Outcome = Omit<ScenarioOutcome, 'name'>;

/** The outcome of a scenario that could not get to its fault. */
const failed = (note: string): Outcome => ({ ok: false, recovery_s: null, ...NO_COUNTS, note });

/**
 * A scenario that runs `body` in a fresh context made from `config` (a function when the config needs something made
 * first, e.g. a free port); its name is stated once, here.
 */
function defineScenario(
  name: string,
  traits: Pick<Scenario, 'fast' | 'needsModel'>,
  config: FaultConfig | (() => FaultConfig | Promise<FaultConfig>),
  body: (ctx: FaultContext) => Promise<Outcome>,
): Scenario {
  return {
    name,
    ...traits,
    run: async (model) => withContext(name, model, typeof config === 'function' ? await config() : config, async (ctx) => ({ name, ...(await body(ctx)) })),
  };
}

/** The ingest process id a state names as owner, for the pid of a spawned ingest. */
const ingestIdOf = (child: ChildProcess) => `ingest-${hostname()}-${child.pid}`;

async function waitRunning(ctx: FaultContext, streamId: string, timeoutMs: number, owner?: (o: string | undefined) => boolean) {
  return ctx.waitFor(timeoutMs, async () => {
    const state = await ctx.streamState(streamId);
    return state?.state === 'running' && (!owner || owner(state.owner)) ? state : undefined;
  });
}

/** Seconds until the stream's results grow past `after` (null: not within timeoutMs). */
async function secondsToNewResults(ctx: FaultContext, streamId: string, after: number, since: number, timeoutMs: number): Promise<number | null> {
  const grew = await ctx.waitFor(timeoutMs, async () => ((await ctx.resultCount(streamId)) > after ? true : undefined));
  return grew ? round1(ctx.elapsedS(since)) : null;
}

/**
 * A lossless file through gateway + ingest + worker processes with `fault` applied once a quarter of its results are
 * in; then every frame must have exactly one result. `fault` returns when the fault is over (the recovery clock starts).
 */
function losslessScenario(
  name: string,
  fault: (ctx: FaultContext, roles: Record<string, RoleProcess>) => Promise<string>,
  redis?: FaultConfig['redis'],
  /** Also count what a WebSocket client reconnecting after the end replays (fromStart). */
  checkClient = false,
  /** When the pipeline counts as recovered (default: new results after the fault); seconds since `since`. */
  recovered?: (ctx: FaultContext, since: number) => Promise<number | null>,
): Scenario {
  const config = (): FaultConfig => ({ streams: [{ id: 'file', url: losslessClip().file, mode: 'lossless' }], ...(redis ? { redis } : {}) });
  return defineScenario(name, { fast: false, needsModel: true }, config, async (ctx) => {
    const clip = losslessClip();
    const roles: Record<string, RoleProcess> = { gateway: ctx.spawn('gateway'), worker: ctx.spawn('worker'), ingest: ctx.spawn('ingest') };
    const quarter = await ctx.waitFor(180_000, async () => ((await ctx.resultCount('file')) >= clip.frames / 4 ? true : undefined), 500);
    if (!quarter) return failed(`no results before the fault (logs in ${ctx.dir})`);
    const before = await ctx.resultCount('file');
    const note = await fault(ctx, roles);
    const faultOver = Date.now();
    const recovery = recovered ? await recovered(ctx, faultOver) : await secondsToNewResults(ctx, 'file', before, faultOver, 120_000);
    const ended = await ctx.waitForEnd('file', 240_000);
    const count = countSeqs(await ctx.results('file'), clip.frames);
    const client = checkClient ? countSeqs(await ctx.wsResults('file', 30_000), clip.frames) : undefined;
    const clientOk = !client || (client.got === count.got && client.missing === count.missing && client.ended);
    const ok = ended && clientOk && count.missing === 0 && count.duplicated === 0 && count.beyond === 0 && count.got === clip.frames;
    const problems = [
      !ended ? 'no end-of-stream' : '',
      count.beyond > 0 ? `${count.beyond} seqs beyond the file's last frame (restarted from 0?)` : '',
      client ? `a WebSocket client reconnecting got ${client.got} results (${client.missing} missing, ${client.duplicated} duplicated${client.ended ? ', end-of-stream' : ', NO end-of-stream'})` : '',
    ].filter(Boolean);
    return { ok, recovery_s: recovery, expected: count.expected, got: count.got, missing: count.missing, duplicated: count.duplicated, note: [note, ...problems].filter(Boolean).join('; ') };
  });
}

const redisShutdown20s = losslessScenario(
  'redis-shutdown-20s',
  async (ctx) => {
    await ctx.redis.shutdown();
    await sleep(20_000);
    await ctx.redis.start();
    return 'SHUTDOWN (AOF everysec), 20 s down';
  },
  { appendfsync: 'everysec' },
);

const redisKill9Always = losslessScenario(
  'redis-kill9-fsync-always',
  async (ctx) => {
    await ctx.redis.kill();
    await sleep(2_000);
    await ctx.redis.start();
    return 'kill -9 of Redis (appendfsync always), restarted from its AOF';
  },
  { appendfsync: 'always' },
);

let killedIngest = '';
const ingestKill9 = losslessScenario(
  'ingest-kill9',
  async (ctx, roles) => {
    const second = ctx.spawn('ingest');
    await sleep(2_000);
    killedIngest = ingestIdOf(roles.ingest!);
    roles.ingest!.kill('SIGKILL');
    roles.ingest = second;
    return 'kill -9 of the owning ingest; a second ingest takes the stream (recovered: running under it)';
  },
  undefined,
  false,
  async (ctx, since) => ((await waitRunning(ctx, 'file', 60_000, (owner) => owner !== killedIngest)) ? round1(ctx.elapsedS(since)) : null),
);

const workerKill9 = losslessScenario('worker-kill9', async (ctx, roles) => {
  roles.worker!.kill('SIGKILL');
  roles.worker = ctx.spawn('worker');
  return 'kill -9 of the worker, a new worker started';
});

const gatewayKill9 = losslessScenario('gateway-kill9', async (ctx, roles) => {
  roles.gateway!.kill('SIGKILL');
  await sleep(1_000);
  roles.gateway = ctx.spawn('gateway');
  const back = await ctx.waitFor(30_000, async () => ((await ctx.get('/readyz')).status === 200 ? true : undefined));
  return back ? 'kill -9 of the gateway, restarted' : 'gateway did not come back ready within 30 s';
}, undefined, true);

/** Row 3: Redis restarted without its data: the config's streams come back, /readyz is not ready until then. */
const redisRestartEmpty = defineScenario('redis-restart-empty', { fast: true, needsModel: true }, { streams: [LIVE_TEST_STREAM] }, async (ctx) => {
  ctx.spawn('gateway');
  ctx.spawn('worker');
  ctx.spawn('ingest');
  const flowing = await ctx.waitFor(120_000, async () => ((await ctx.resultCount('live')) > 0 ? true : undefined), 500);
  if (!flowing) return failed(`no results before the fault (logs in ${ctx.dir})`);
  // /readyz is polled throughout: not ready while Redis is away and until the registry is seeded again.
  const notReady = new Set<string>();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const ready = await ctx.get('/readyz', 2_500);
      if (ready.status !== 200) notReady.add(String((ready.body as { reason?: string } | undefined)?.reason ?? ready.status).replace(/since \S+/, 'since ...'));
      await sleep(100);
    }
  })();
  await ctx.redis.kill();
  await sleep(1_000);
  ctx.redis.wipe();
  await ctx.redis.start();
  const restarted = Date.now();
  const readyAgain = await ctx.waitFor(60_000, async () => {
    const ready = await ctx.get('/readyz');
    const state = await ctx.streamState('live');
    return ready.status === 200 && state !== undefined ? true : undefined;
  }, 200);
  polling = false;
  await poller;
  const sawNotReady = notReady.size > 0;
  const recovery = await secondsToNewResults(ctx, 'live', 0, restarted, 60_000);
  const ok = readyAgain === true && recovery !== null && sawNotReady;
  const note = `${readyAgain ? 'stream listed again' : 'stream NOT listed again'}; /readyz ${sawNotReady ? `said not ready (${[...notReady].join(' | ')}), then ready` : 'never said not ready'}`;
  return { ok, recovery_s: recovery, ...NO_COUNTS, note };
});

/** Row 7: a killed ingest's streams show stale then orphaned within 10 s, then move to the other ingest. */
const ingestOrphaned = defineScenario('ingest-kill9-orphaned', { fast: true, needsModel: false }, { streams: [LIVE_TEST_STREAM] }, async (ctx) => {
  ctx.spawn('gateway');
  const ingests = [ctx.spawn('ingest'), ctx.spawn('ingest')];
  const running = await waitRunning(ctx, 'live', 60_000);
  const victim = ingests.find((child) => ingestIdOf(child) === running?.owner);
  if (!running || !victim) return failed(`stream not running under a known ingest (logs in ${ctx.dir})`);
  victim.kill('SIGKILL');
  const killed = Date.now();
  // Until another ingest reports the stream, the gateway must stop calling it running: stale, then orphaned
  // (unless the other ingest took it over first: BullMQ moves it 4-12 s after the kill, depending on the lock).
  const seen: string[] = [];
  let deadRunningAt: number | undefined;
  let orphanedAt: number | undefined;
  const moved = await ctx.waitFor(30_000, async () => {
    const state = await ctx.streamState('live');
    if (!state) return undefined;
    if (seen.at(-1) !== state.state) seen.push(state.state);
    if (state.owner === running.owner && state.state === 'running') deadRunningAt = ctx.elapsedS(killed);
    if (state.state === 'orphaned') orphanedAt ??= ctx.elapsedS(killed);
    return state.state === 'running' && state.owner !== running.owner ? ctx.elapsedS(killed) : undefined;
  }, 200);
  const recovery = moved === undefined ? null : round1(moved);
  const shownDeadFor = deadRunningAt ?? 0;
  const flagged = seen.includes('stale') || seen.includes('orphaned');
  const ok = moved !== undefined && shownDeadFor <= 6 && (flagged || moved <= 6) && (orphanedAt ?? moved) <= 12;
  const note = `states seen after the kill: ${seen.join(' -> ')}; dead owner shown running until ${shownDeadFor.toFixed(1)} s; orphaned ${orphanedAt === undefined ? 'not reached (moved first)' : `after ${orphanedAt.toFixed(1)} s`}; ${moved === undefined ? 'did not move' : `running under the other ingest after ${moved.toFixed(1)} s`}`;
  return { ok, recovery_s: recovery, ...NO_COUNTS, note };
});

/** Row 11: an outage is one warning and one recovery line per process, and no unhandled error events. */
const redisOutageLogs = defineScenario('redis-outage-logs', { fast: true, needsModel: false }, { streams: [LIVE_TEST_STREAM], redis: { appendfsync: 'everysec' } }, async (ctx) => {
  ctx.spawn('gateway');
  ctx.spawn('ingest');
  if (!(await waitRunning(ctx, 'live', 60_000))) return failed(`stream never ran (logs in ${ctx.dir})`);
  await ctx.redis.shutdown();
  await sleep(5_000);
  await ctx.redis.start();
  const back = Date.now();
  const running = await ctx.waitFor(30_000, async () => ((await ctx.get('/readyz')).status === 200 && (await ctx.streamState('live'))?.state === 'running' ? true : undefined));
  await sleep(3_000);
  const problems: string[] = [];
  for (const role of ['gateway', 'ingest']) {
    const down = ctx.logLines(role, /unreachable/).length;
    const up = ctx.logLines(role, /reachable again/).length;
    if (down !== 1 || up !== 1) problems.push(`${role}: ${down} outage warnings, ${up} recovery lines`);
  }
  const unhandled = ctx.logs().filter((log) => log.text.includes('Unhandled error event'));
  if (unhandled.length > 0) problems.push(`"Unhandled error event" in ${unhandled.map((l) => l.role).join(', ')}`);
  return { ok: running === true && problems.length === 0, recovery_s: running ? round1(ctx.elapsedS(back)) : null, ...NO_COUNTS, note: problems.join('; ') || 'one warning and one recovery line per process; no unhandled error events' };
});

/** Row 4: REST while Redis is down answers 503 within ~2 s and is never applied later. */
const restDuringOutage = defineScenario('rest-during-outage', { fast: true, needsModel: false }, { streams: [LIVE_TEST_STREAM], redis: { appendfsync: 'everysec' } }, async (ctx) => {
  ctx.spawn('gateway');
  await ctx.waitFor(30_000, async () => ((await ctx.get('/readyz')).status === 200 ? true : undefined));
  await ctx.redis.shutdown();
  const post = await ctx.request('POST', '/api/streams', { id: 'late', url: 'rtsp://93.184.216.34/late' }, 6_000);
  await sleep(2_000);
  await ctx.redis.start();
  const back = Date.now();
  const listed = await ctx.waitFor(20_000, async () => {
    const { status, body } = await ctx.get('/api/streams');
    return status === 200 ? (body as { streams: Array<{ id: string }> }).streams.map((s) => s.id) : undefined;
  });
  const applied = listed?.includes('late') ?? false;
  const ok = post.status === 503 && post.ms <= 2_500 && listed !== undefined && !applied;
  return { ok, recovery_s: listed ? round1(ctx.elapsedS(back)) : null, ...NO_COUNTS, note: `POST answered ${post.status} in ${post.ms} ms; ${applied ? 'APPLIED after Redis returned' : 'not applied later'}` };
});

/** Row 13: SIGTERM while Redis is down: every role exits within the drain timeout. */
const sigtermRedisDown = defineScenario('sigterm-redis-down', { fast: false, needsModel: true }, { streams: [LIVE_TEST_STREAM] }, async (ctx) => {
  const roles = { gateway: ctx.spawn('gateway'), worker: ctx.spawn('worker'), ingest: ctx.spawn('ingest') };
  await waitRunning(ctx, 'live', 120_000);
  await ctx.redis.kill();
  await sleep(1_000);
  const start = Date.now();
  const exits = await Promise.all(Object.entries(roles).map(async ([role, child]) => `${role} ${await stopChild(child, 20_000)}`));
  const took = round1(ctx.elapsedS(start));
  const ok = exits.every((exit) => !exit.includes('killed')) && took <= 15;
  return { ok, recovery_s: took, ...NO_COUNTS, note: `exits: ${exits.join(', ')} (all within ${took} s)` };
});

/** Row 5: a camera password never reaches a log line or a response. */
const CAMERA_SECRET = 'Pa55w0rd-faults';
const credentialsNotLogged = defineScenario(
  'credentials-not-logged',
  { fast: true, needsModel: false },
  async () => ({ streams: [{ id: 'cam', url: `rtsp://admin:${CAMERA_SECRET}@127.0.0.1:${await freePort()}/x`, mode: 'live' }] }),
  async (ctx) => {
    ctx.spawn('gateway');
    ctx.spawn('ingest');
    await ctx.waitFor(20_000, async () => ((await ctx.streamState('cam'))?.state === 'reconnecting' ? true : undefined));
    await sleep(2_000);
    const api = JSON.stringify((await ctx.get('/api/streams')).body ?? '');
    const leaks = [...ctx.logs().filter((log) => log.text.includes(CAMERA_SECRET)).map((log) => `${log.role} log`), ...(api.includes(CAMERA_SECRET) ? ['GET /api/streams'] : [])];
    return { ok: leaks.length === 0, recovery_s: null, ...NO_COUNTS, note: leaks.length === 0 ? 'password in no log line and no response' : `password found in: ${leaks.join(', ')}` };
  },
);

/** Row 6: Redis at maxmemory: /readyz says so, commits wait (one warning), nothing lost once memory is raised. */
const redisOom = defineScenario(
  'redis-oom',
  { fast: true, needsModel: true },
  () => ({ streams: [{ id: 'file', url: losslessClip().file, mode: 'lossless' }] }),
  async (ctx) => {
    const clip = losslessClip();
    ctx.spawn('gateway');
    ctx.spawn('worker');
    ctx.spawn('ingest');
    const some = await ctx.waitFor(180_000, async () => ((await ctx.resultCount('file')) >= 20 ? true : undefined), 500);
    if (!some) return failed(`no results before the fault (logs in ${ctx.dir})`);
    // Squeeze: maxmemory at half of what is used now, so every write is refused for the whole window (just under
    // it is not enough: used_memory includes client output buffers, and a worker's frame reads swing it by MBs).
    await ctx.redis.command(async (redis) => {
      const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
      await redis.config('SET', 'maxmemory', String(Math.max(1024 * 1024, Math.floor(used / 2))));
    });
    const reason = await ctx.waitFor(10_000, async () => {
      const ready = await ctx.get('/readyz');
      const text = JSON.stringify(ready.body);
      return ready.status === 503 && text.includes('out of memory') ? (ready.body as { reason: string }).reason : undefined;
    });
    await sleep(5_000);
    const before = await ctx.resultCount('file');
    await ctx.redis.command((redis) => redis.config('SET', 'maxmemory', '0'));
    const raised = Date.now();
    const recovery = await secondsToNewResults(ctx, 'file', before, raised, 60_000);
    const ended = await ctx.waitForEnd('file', 240_000);
    const count = countSeqs(await ctx.results('file'), clip.frames);
    const warnings = ctx.logLines('worker', /out of memory/).length;
    const readyAfter = (await ctx.get('/readyz')).status === 200;
    const ok = reason !== undefined && readyAfter && ended && count.missing === 0 && count.duplicated === 0 && count.beyond === 0 && warnings <= 1;
    const beyond = count.beyond > 0 ? `; ${count.beyond} seqs beyond the file's last frame (restarted from 0?)` : '';
    const note = `/readyz: ${reason ?? 'never said out of memory'}; worker OOM warnings: ${warnings}; ${ended ? 'ended' : 'no end-of-stream'}${beyond}`;
    return { ok, recovery_s: recovery, expected: count.expected, got: count.got, missing: count.missing, duplicated: count.duplicated, note };
  },
);

/** The shared RTSP test server (cli/bench/rtsp-server.ts) looping the walking clip, on `port`. */
async function startRtspServer(port: number): Promise<ChildProcess> {
  const clip = annexB(assetPath('walkingVideo'), path.join(buildDir, 'faults', 'walking.h264'));
  return (await launchRtspServer(clip, { port })).child;
}

/** RTSP camera away for 10 s: the live stream reconnects and results flow again. */
const RTSP_DOWN = 'rtsp-down-10s';
const rtspDown10s: Scenario = {
  name: RTSP_DOWN,
  fast: false,
  needsModel: true,
  // Not defineScenario: the camera server lives around the context (it must be stopped however the body ends).
  run: async (model) => {
    const port = await freePort();
    let server = await startRtspServer(port);
    try {
      return await withContext(RTSP_DOWN, model, { streams: [{ id: 'cam', url: `rtsp://127.0.0.1:${port}/stream`, mode: 'live', fps: 5 }] }, async (ctx) => {
        const name = RTSP_DOWN;
        ctx.spawn('gateway');
        ctx.spawn('worker');
        ctx.spawn('ingest');
        const flowing = await ctx.waitFor(120_000, async () => ((await ctx.resultCount('cam')) > 0 ? true : undefined), 500);
        if (!flowing) return { name, ok: false, recovery_s: null, ...NO_COUNTS, note: `no results before the fault (logs in ${ctx.dir})` };
        await stopChild(server, 2_000);
        await sleep(10_000);
        const before = await ctx.resultCount('cam');
        server = await startRtspServer(port);
        const back = Date.now();
        const recovery = await secondsToNewResults(ctx, 'cam', before, back, 60_000);
        return { name, ok: recovery !== null, recovery_s: recovery, ...NO_COUNTS, note: recovery === null ? 'no results within 60 s of the server coming back' : 'reconnected' };
      });
    } finally {
      await stopChild(server, 2_000);
    }
  },
};

export const SCENARIOS: Scenario[] = [
  redisShutdown20s,
  ingestKill9,
  workerKill9,
  gatewayKill9,
  redisKill9Always,
  redisRestartEmpty,
  rtspDown10s,
  restDuringOutage,
  redisOom,
  sigtermRedisDown,
  ingestOrphaned,
  credentialsNotLogged,
  redisOutageLogs,
];
