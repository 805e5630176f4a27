import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { RedisClient } from '../../pipeline/redis/client.js';
import { hasNotifySinks, type NotifyConfig } from '../../config/notify.js';
import type { PosestreamConfig } from '../../config/schema.js';
import { repoRoot } from '../../pipeline/assets.js';
import { PosestreamError } from '../../pipeline/errors.js';
import type { Logger } from '../../pipeline/obs/logger.js';
import type { Metrics } from '../../pipeline/obs/metrics.js';
import { registerSecrets, urlSecretParts } from '../../pipeline/obs/redact.js';
import { createRedis } from '../../pipeline/redis/client.js';
import { notifyGroup } from '../../pipeline/redis/keys.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import { StreamDirectory } from '../../pipeline/streams/stream-directory.js';
import { EventGroupReader } from './event-reader.js';
import { MqttSink } from './mqtt/mqtt-sink.js';
import type { Sink, SinkKind } from './sink.js';
import { SinkLoop } from './sink-loop.js';
import { WebhookSink } from './webhook/webhook-sink.js';

/**
 * The notifier role: delivers pose events from Redis to the configured sinks (MQTT with Home Assistant discovery,
 * webhooks). It runs beside the pipeline, never inside it: it only reads the per-stream event streams the event
 * engine writes, so a slow, dead or restarting sink can delay nothing but its own deliveries. Each sink kind has
 * its own consumer group, reading connection and loop; undelivered events wait in Redis.
 */

export interface NotifierOptions {
  logger: Logger;
  metrics?: Metrics;
  /** Consumer name in the groups; default config.notify.consumer, then the host name. */
  consumer?: string;
  /** Longest blocking read (ms); a stop or a new stream is noticed within it. Default 1,000. */
  blockMs?: number;
}

export interface NotifierHandle {
  readonly sinks: SinkKind[];
  /** Events handed to a sink and not yet settled, per sink kind (tests wait on it). */
  pending(kind: SinkKind): number;
  /** Stops reading, closes the sinks (events not yet delivered stay pending in Redis for the next run). */
  stop(): Promise<void>;
}

/** A stop waits this long for the read loops and acknowledgements (Redis may be down). */
const STOP_TIMEOUT_MS = 5_000;

interface RunningSink {
  sink: Sink;
  loop: SinkLoop;
  connection: RedisClient;
}

export async function startNotifier(config: PosestreamConfig, options: NotifierOptions): Promise<NotifierHandle> {
  const { notify } = config;
  if (!hasNotifySinks(notify)) {
    throw new PosestreamError('PS_NOTIFY_NO_SINKS', 'no notification sinks configured: add notify.mqtt or notify.webhooks to the config');
  }
  // Logs name endpoints by config name and origin; anything else of theirs that might reach a line is masked there.
  registerSecrets(notifySecrets(notify));
  const logger = options.logger.child({ component: 'notify' });
  const consumer = options.consumer ?? notify.consumer ?? hostname();
  const redis = createRedis(config.redis, { name: 'notify', logger });
  const directory = new StreamDirectory(new StreamRegistry(redis), logger);
  await directory.start();

  const running: RunningSink[] = [];
  const follow = (kind: SinkKind, makeSink: (reader: EventGroupReader, wake: () => void) => Sink) => {
    const connection = createRedis(config.redis, { name: `notify-${kind}`, logger });
    const reader = new EventGroupReader(connection, redis, { group: notifyGroup(kind), consumer });
    let loop: SinkLoop | undefined;
    const sink = makeSink(reader, () => loop?.poke());
    loop = new SinkLoop(reader, sink, { streams: () => directory.ids(), logger, ...(options.metrics ? { metrics: options.metrics } : {}), ...(options.blockMs ? { blockMs: options.blockMs } : {}) });
    loop.start();
    running.push({ sink, loop, connection });
  };

  if (notify.mqtt) {
    const mqttConfig = notify.mqtt;
    follow('mqtt', (reader, wake) => new MqttSink(mqttConfig, {
      logger,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      version: posestreamVersion(),
      snapshot: (streamId, eventId) => reader.snapshot(streamId, eventId),
      onReady: wake,
    }));
  }
  if (notify.webhooks.length > 0) {
    follow('webhook', () => new WebhookSink(notify.webhooks, { logger, ...(options.metrics ? { metrics: options.metrics } : {}) }));
  }
  logger.info({ consumer, sinks: running.map((r) => r.sink.kind), webhooks: notify.webhooks.map((hook) => hook.name) }, 'notifier started');

  let stopping: Promise<void> | undefined;
  return {
    sinks: running.map((r) => r.sink.kind),
    pending: (kind) => running.find((r) => r.sink.kind === kind)?.loop.pending ?? 0,
    stop: () => {
      stopping ??= (async () => {
        directory.stop();
        for (const { loop, connection } of running) {
          loop.stop();
          connection.disconnect();
        }
        for (const { sink } of running) await sink.close();
        await withDeadline(Promise.all(running.map(({ loop }) => loop.stopped())), STOP_TIMEOUT_MS);
        // Without Redis the acknowledgements of what was delivered last may be missing: not a clean drain.
        const reachable = redis.status === 'ready';
        const unsettled = running.reduce((sum, { loop }) => sum + loop.pending, 0);
        redis.disconnect();
        if (!reachable || unsettled > 0) {
          throw new Error(
            `notifier stopped with ${reachable ? `${unsettled} event(s) unsettled` : 'Redis unreachable'}: events not acknowledged stay pending in Redis and the next notifier delivers them (again)`,
          );
        }
        logger.info('notifier stopped');
      })();
      return stopping;
    },
  };
}

/** MQTT password and URL credentials; webhook secrets and URL credentials, paths and queries. */
export function notifySecrets(notify: NotifyConfig): string[] {
  const secrets: string[] = [];
  if (notify.mqtt) secrets.push(...urlSecretParts(notify.mqtt.url).filter((part) => !part.startsWith('/')), notify.mqtt.password ?? '');
  for (const hook of notify.webhooks) secrets.push(hook.secret, ...urlSecretParts(hook.url));
  return secrets.filter((secret) => secret.length > 0);
}

function withDeadline(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    promise.finally(() => {
      clearTimeout(timer);
      resolve();
    }).catch(() => undefined);
  });
}

let version: string | undefined;
function posestreamVersion(): string {
  version ??= (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
