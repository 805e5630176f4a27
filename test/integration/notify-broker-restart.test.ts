import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../pipeline/obs/metrics.js';
import { createRedis } from '../../pipeline/redis/client.js';
import { replyRecord } from '../../pipeline/redis/codec.js';
import { keys, notifyGroup } from '../../pipeline/redis/keys.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import { startNotifier, type NotifierHandle } from '../../workers/notify/main.js';
import { testRedisUrl } from '../support/env.js';
import { startTestBroker, type TestBroker } from '../support/mosquitto.js';
import { json, MqttProbe, notifyTestConfig, pendingEvents, waitUntil, type ReceivedMessage } from '../support/notify.js';
import { poseEvent, writePoseEvent } from '../support/pose-events.js';

/**
 * A broker that dies and comes back loses nothing: the event written while it is down waits in Redis (pending,
 * not acknowledged) and is published after the notifier reconnects, and so is the next one. The probe holds a
 * persistent session (clean: false, QoS 1), which the broker keeps across its restart, so it receives what was
 * published while the probe itself was reconnecting.
 */

const DB = 51;
const redisUrl = testRedisUrl(DB);
const redis = createRedis(redisUrl, { name: 'test', logger: pino({ level: 'silent' }) });
const metrics = createMetrics();
let broker: TestBroker;
let notifier: NotifierHandle;
let probe: MqttProbe;

const eventId = (message: ReceivedMessage) => (json(message) as { id: string }).id;

beforeAll(async () => {
  await redis.flushdb();
  await new StreamRegistry(redis).add({ id: 'cam', url: 'test://ball' });
  broker = await startTestBroker('restart');
  const config = notifyTestConfig(redisUrl, { mqtt: { url: broker.url, reconnectMs: 200 } });
  notifier = await startNotifier(config, { logger: pino({ level: 'silent' }), metrics, blockMs: 200 });
  probe = await MqttProbe.connect(broker.url, ['posestream/cam/events/#'], { clean: false, clientId: 'restart-probe' });
});

afterAll(async () => {
  await notifier?.stop();
  await probe?.close();
  await broker?.stop();
  await redis.flushdb();
  redis.disconnect();
});

describe('notifier: MQTT broker restart', () => {
  it('delivers the event written while the broker was down, and the next one', async () => {
    const before = poseEvent({ streamId: 'cam', type: 'fall', seq: 10 });
    await writePoseEvent(redis, before);
    await probe.waitFor('posestream/cam/events/fall', (m) => eventId(m) === before.id);

    await broker.stop();
    const during = poseEvent({ streamId: 'cam', type: 'recovered', seq: 20 });
    await writePoseEvent(redis, during);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // Not delivered, so not acknowledged: it waits in Redis (new, or pending if it was read as the broker went).
    const groups = (await redis.xinfo('GROUPS', keys.poseEvents('cam'))) as unknown[];
    const group = groups.map(replyRecord).find((g) => g.name === notifyGroup('mqtt'))!;
    expect(Number(group.lag ?? 0) + Number(group.pending)).toBeGreaterThanOrEqual(1);
    expect((await metrics.notifyConnected.get()).values[0]?.value).toBe(0);

    await broker.start();
    const after = poseEvent({ streamId: 'cam', type: 'fall', seq: 30 });
    await writePoseEvent(redis, after);
    await probe.waitFor('posestream/cam/events/recovered', (m) => eventId(m) === during.id, 20_000);
    await probe.waitFor('posestream/cam/events/fall', (m) => eventId(m) === after.id, 20_000);
    await waitUntil(async () => (await pendingEvents(redis, 'cam', 'mqtt')) === 0);
    expect((await metrics.notifyConnected.get()).values[0]?.value).toBe(1);
  });
});
