import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { hasNotifySinks } from '../../config/notify.js';
import type { PosestreamConfig } from '../../config/schema.js';
import { describeError } from '../../pipeline/errors.js';
import { createLogger, type Logger } from '../../pipeline/obs/logger.js';
import { createMetrics, type Metrics } from '../../pipeline/obs/metrics.js';
import { describeRedisTarget } from '../../pipeline/redis/client.js';
import { reportCliError } from '../report-error.js';

export type Role = 'ingest' | 'worker' | 'gateway' | 'notify';

interface RoleHandle {
  stop(): Promise<void>;
}

interface RunningRole extends RoleHandle {
  role: Role;
}

/**
 * What a role that did not finish its drain leaves in Redis for the next owner, for the drain-timeout line (its
 * details, e.g. ingest's streams, come from `detail`).
 */
const LEFT_IN_REDIS: Record<Role, string> = {
  ingest: 'its streams move to another ingest process once their job locks expire and resume from their ingest records',
  worker: 'frames it read and had not committed stay pending; the next owner of their streams claims them',
  gateway: 'nothing: clients reconnect to another gateway',
  notify: 'events not yet delivered stay pending in their sink groups and are delivered by the next notifier',
};

/**
 * Start order: the gateway first (users see the dashboard at once), then the notifier (its consumer groups exist
 * before the first event), ingest last (workers are ready for its frames).
 */
const START_ORDER: Role[] = ['gateway', 'notify', 'worker', 'ingest'];

/**
 * Longest a drain may take by default (config `shutdown.drainTimeoutSec`). A role whose Redis is unreachable would
 * otherwise wait for it forever (its last commands retry until Redis returns); past this the process exits 1 and
 * names what did not stop. Nothing is lost by that: frames a worker held stay pending in Redis for the next owner,
 * an ingest's jobs move after their lock expires (and resume from their ingest records), and ingest's decoder
 * processes were already stopped at the start of the drain.
 */
export const DRAIN_TIMEOUT_MS = 10_000;

/**
 * `posestream run` (every role in this process: the demo) and `posestream ingest|worker`. The gateway role command
 * lives in gateway.ts and calls runRoles too. The CLI is the composition root: only here do roles meet in one process.
 */
export function registerRoleCommands(program: Command): void {
  program
    .command('run')
    .description('run ingest, inference worker, gateway and (when notify sinks are configured) the notifier in this process (the demo)')
    .option('-c, --config <file>', 'config file (default config/posestream.yaml or POSESTREAM_CONFIG)')
    .action((options: { config?: string }) => runRoles(['ingest', 'worker', 'gateway', 'notify'], options.config));
  program
    .command('ingest')
    .description('run the ingest role: sources (one GStreamer decoder process each) -> Redis frame streams')
    .option('-c, --config <file>', 'config file')
    .action((options: { config?: string }) => runRoles(['ingest'], options.config));
  program
    .command('worker')
    .description('run an inference worker: Redis frame streams -> YOLOv8-pose -> Redis result streams; start several to scale out')
    .option('-c, --config <file>', 'config file')
    .action((options: { config?: string }) => runRoles(['worker'], options.config));
  program
    .command('notify')
    .description('run the notifier: pose events in Redis -> MQTT (Home Assistant discovery) and webhooks (config notify:)')
    .option('-c, --config <file>', 'config file')
    .action((options: { config?: string }) => runRoles(['notify'], options.config));
}

/**
 * Starts the roles, then waits for SIGINT/SIGTERM: the first drains (ingest stops, workers publish what they hold,
 * the gateway closes) and exits 0, or 1 when the drain did not finish within shutdown.drainTimeoutSec (or a role
 * stopped leaving something behind, e.g. a notifier that could not acknowledge); a second signal kills
 * the process at once (status 128 + signal number).
 */
export async function runRoles(roles: Role[], configFile?: string): Promise<void> {
  const { config, file } = loadConfig(configFile);
  const logger = createLogger(roles.length === 1 ? roles[0]! : 'run');
  const metrics = createMetrics();
  logger.info({ config: file, roles, redis: describeRedisTarget(config.redis) }, 'starting');

  const running: RunningRole[] = [];
  const drainTimeoutMs = config.shutdown.drainTimeoutSec * 1000;
  /** Roles whose stop() has not returned yet, for the drain-timeout message. */
  const draining = new Set<Role>();
  let stopping: Promise<void> | undefined;
  /** A role's stop() threw: it stopped, but left something for the next owner (the exit status says so). */
  let unclean = false;
  const stopAll = (reason: string) => {
    stopping ??= (async () => {
      logger.info({ reason }, 'draining');
      for (const handle of running) draining.add(handle.role);
      for (const handle of [...running].reverse()) {
        try {
          await handle.stop();
        } catch (error) {
          unclean = true;
          logger.error({ role: handle.role, err: describeError(error) }, 'role did not stop cleanly');
        }
        draining.delete(handle.role);
      }
    })();
    return stopping;
  };
  /** True when the drain finished in time. */
  const drain = async (reason: string): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), drainTimeoutMs);
    });
    const finished = await Promise.race([stopAll(reason).then(() => true as const), timedOut]);
    clearTimeout(timer);
    if (!finished) {
      logger.error(
        { pending: [...draining], left: Object.fromEntries([...draining].map((role) => [role, LEFT_IN_REDIS[role]])), timeoutMs: drainTimeoutMs },
        `drain did not finish within ${drainTimeoutMs / 1000} s (is Redis reachable?); exiting: what these roles still held stays in Redis for the next owner`,
      );
    }
    return finished;
  };
  const done = new Promise<string>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) {
        // Re-raise with the default action: the process dies at once (status 128 + signal). process.exit() would
        // first join libuv's threads, which a native call stuck in one of them can block forever.
        process.stderr.write(`posestream: second ${signal}, exiting without draining\n`);
        process.removeAllListeners(signal);
        process.kill(process.pid, signal);
        return;
      }
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

  // Startup can wait a long time (Redis unreachable: every command waits for the reconnect); a signal meanwhile
  // stops what has started and exits instead of waiting for the rest.
  const startup = (async () => {
    for (const role of START_ORDER.filter((r) => roles.includes(r))) {
      if (role === 'notify' && roles.length > 1 && !hasNotifySinks(config.notify)) {
        logger.info('no notification sinks configured (notify:); notifier not started');
        continue;
      }
      const handle = await startRole(role, config, logger, metrics, roles.includes('worker'));
      if (stopping) {
        await handle.stop().catch(() => undefined);
        return;
      }
      running.push({ role, ...handle });
    }
  })();
  let first: string;
  try {
    first = await Promise.race([startup.then(() => 'started'), done]);
  } catch (error) {
    await drain('startup failed');
    process.exitCode = reportCliError(error);
    exitSoon();
    return;
  }
  if (first === 'started') {
    logger.info({ roles }, 'running');
    first = await done;
  } else {
    startup.catch(() => undefined);
    logger.warn({ signal: first }, 'signal during startup; not waiting for the remaining roles');
  }
  if (!(await drain(first)) || unclean) {
    process.exitCode = 1;
    exitSoon();
    return;
  }
  logger.info('stopped');
  process.exitCode = 0;
  exitSoon();
}

async function startRole(
  role: Role,
  config: PosestreamConfig,
  logger: Logger,
  metrics: Metrics,
  workerInProcess: boolean,
): Promise<{ stop(): Promise<void> }> {
  switch (role) {
    case 'gateway': {
      const { startGateway } = await import('../../gateway/main.js');
      // A worker in this process already counts results and stage timings into the shared metrics.
      const gateway = await startGateway(config, { logger, metrics, observePipelineResults: !workerInProcess });
      logger.info({ url: gateway.url }, `gateway listening on ${gateway.url}`);
      return gateway;
    }
    case 'worker': {
      const { startWorker } = await import('../../workers/inference/main.js');
      return startWorker(config, { logger, metrics });
    }
    case 'ingest': {
      const { startIngest } = await import('../../workers/ingest/main.js');
      return startIngest(config, { logger, metrics });
    }
    case 'notify': {
      const { startNotifier } = await import('../../workers/notify/main.js');
      return startNotifier(config, { logger, metrics });
    }
  }
}

/**
 * Native libraries (OpenVINO) and clients still reconnecting may hold the event loop open after everything
 * stopped; exit shortly after the drain instead of hanging. Unref'd, so a clean loop exits earlier on its own.
 */
function exitSoon(): void {
  setTimeout(() => process.exit(), 2_000).unref();
}
