import { randomBytes } from 'node:crypto';
import pino from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../pipeline/obs/metrics.js';
import { createRedis } from '../../pipeline/redis/client.js';
import { FIELD } from '../../pipeline/redis/codec.js';
import { keys, notifyGroup } from '../../pipeline/redis/keys.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import { startNotifier, type NotifierHandle } from '../../workers/notify/main.js';
import { TopicLayout } from '../../workers/notify/mqtt/topics.js';
import { testMqttUrl, testRedisUrl } from '../support/env.js';
import { capturingLogger, json, MqttProbe, notifyTestConfig, pendingEvents, waitUntil } from '../support/notify.js';
import { poseEvent, writePoseEvent } from '../support/pose-events.js';

/**
 * The notifier against the suite's real mosquitto (scripts/mosquitto.sh test) and real Redis: Home Assistant
 * discovery, events on their topics, fall/occupancy state, snapshots, streams added later, resuming after a
 * restart (including events a previous run read and never acknowledged), and bad entries.
 */

const DB = 50;
const redisUrl = testRedisUrl(DB);
const silent = pino({ level: 'silent' });
const redis = createRedis(redisUrl, { name: 'test', logger: silent });
const registry = new StreamRegistry(redis);
// The shared test broker outlives test runs: topics unique to this run keep retained messages of others out.
const run = randomBytes(4).toString('hex');
const prefix = `pstest-${run}`;
const discoveryPrefix = `hatest-${run}`;
const mqttConfig = { url: testMqttUrl, username: 'posestream', password: 'mqtt-secret-4711', topicPrefix: prefix, discoveryPrefix, reconnectMs: 200 };
const config = notifyTestConfig(redisUrl, { mqtt: mqttConfig, consumer: 'notify-test' });
const metrics = createMetrics();
const logs = capturingLogger();
let notifier: NotifierHandle;
let probe: MqttProbe;

beforeAll(async () => {
  await redis.flushdb();
  await registry.add({ id: 'door', url: 'test://ball' });
  notifier = await startNotifier(config, { logger: logs.logger, metrics, blockMs: 200 });
  probe = await MqttProbe.connect(testMqttUrl, [`${prefix}/#`, `${discoveryPrefix}/#`]);
});

afterAll(async () => {
  await notifier?.stop();
  await probe?.clearRetained();
  await probe?.close();
  await registry.close();
  await redis.flushdb();
  redis.disconnect();
});

describe('notifier: MQTT', () => {
  it('announces each stream to Home Assistant with retained discovery and a retained availability topic', async () => {
    const status = await probe.waitFor(`${prefix}/status`, (m) => m.payload.toString() === 'online');
    const fall = await probe.waitFor(`${discoveryPrefix}/binary_sensor/${prefix}_door/fall/config`);
    const image = await probe.waitFor(`${discoveryPrefix}/image/${prefix}_door/fall_snapshot/config`);
    // A subscriber that arrives later still gets them: they are retained on the broker.
    const late = await MqttProbe.connect(testMqttUrl, [`${prefix}/status`, `${discoveryPrefix}/#`]);
    try {
      const again = await late.waitFor(fall.topic);
      expect(again.retain).toBe(true);
      expect((await late.waitFor(`${prefix}/status`)).retain).toBe(true);
    } finally {
      await late.close();
    }
    expect(status.payload.toString()).toBe('online');
    expect(json(fall)).toMatchObject({
      unique_id: `${prefix}_door_fall`,
      state_topic: `${prefix}/door/fall`,
      device_class: 'safety',
      payload_on: 'ON',
      payload_off: 'OFF',
      availability_topic: `${prefix}/status`,
      device: { identifiers: [`${prefix}_door`] },
    });
    expect(json(image)).toMatchObject({ image_topic: `${prefix}/door/fall/snapshot`, content_type: 'image/jpeg' });
  });

  it('publishes an event written to the stream\'s event stream on its topic, drives the fall sensor, and acks', async () => {
    const fall = poseEvent({ streamId: 'door', type: 'fall', trackId: 3, seq: 120 });
    await writePoseEvent(redis, fall);
    const received = await probe.waitFor(`${prefix}/door/events/fall`, (m) => (json(m) as { id: string }).id === fall.id);
    expect(json(received)).toEqual(fall);
    expect(received.retain).toBe(false);
    const on = await probe.waitFor(`${prefix}/door/fall`, (m) => m.payload.toString() === 'ON');
    expect(on.retain).toBe(false); // retained on the broker; a live subscriber sees retain=false
    expect(json(await probe.waitFor(`${prefix}/door/fall/attributes`))).toMatchObject({ event_id: fall.id, track_id: 3, tracks_down: 1 });

    await writePoseEvent(redis, poseEvent({ streamId: 'door', type: 'recovered', trackId: 3, seq: 300 }));
    await probe.waitFor(`${prefix}/door/fall`, (m) => m.payload.toString() === 'OFF');
    await waitUntil(async () => (await pendingEvents(redis, 'door', 'mqtt')) === 0);
    expect((await metrics.notifyDelivered.get()).values.find((v) => v.labels.sink === 'mqtt')?.value).toBeGreaterThanOrEqual(2);
  });

  it('announces a zone sensor with its first occupancy count, and publishes event snapshots retained', async () => {
    await writePoseEvent(redis, poseEvent({ streamId: 'door', type: 'occupancy', zone: 'Bed 1', seq: 400, attributes: { count: 2 } }));
    const layout = new TopicLayout({ topicPrefix: prefix, discoveryPrefix });
    const discovery = await probe.waitFor(layout.zoneConfig('door', 'Bed 1'));
    expect(discovery.topic).toMatch(new RegExp(`^${discoveryPrefix}/sensor/${prefix}_door/zone_Bed_1-[0-9a-f]{8}_occupancy/config$`));
    const sensor = json(discovery) as { state_topic: string; name: string };
    expect(sensor.name).toBe('Bed 1 occupancy');
    expect((await probe.waitFor(sensor.state_topic)).payload.toString()).toBe('2');

    const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#c00' } }).jpeg().toBuffer();
    await writePoseEvent(redis, poseEvent({ streamId: 'door', type: 'fall', trackId: 4, seq: 500, snapshot: true }), jpeg);
    const snapshot = await probe.waitFor(`${prefix}/door/fall/snapshot`);
    expect(snapshot.payload.equals(jpeg)).toBe(true);
  });

  it('follows streams added to the registry later', async () => {
    await registry.add({ id: 'hall', url: 'test://snow' });
    await probe.waitFor(`${discoveryPrefix}/binary_sensor/${prefix}_hall/fall/config`);
    const event = poseEvent({ streamId: 'hall', type: 'hands_raised', seq: 7 });
    await writePoseEvent(redis, event);
    expect(json(await probe.waitFor(`${prefix}/hall/events/hands_raised`))).toEqual(event);
  });

  it('acknowledges and counts an entry that does not decode, and goes on delivering', async () => {
    await redis.xadd(keys.poseEvents('door'), '*', FIELD.event, '{"v":1,"kind":"event"');
    const next = poseEvent({ streamId: 'door', type: 'posture', seq: 700, attributes: { posture: 'sitting' } });
    await writePoseEvent(redis, next);
    await probe.waitFor(`${prefix}/door/events/posture`, (m) => (json(m) as { id: string }).id === next.id);
    await waitUntil(async () => (await pendingEvents(redis, 'door', 'mqtt')) === 0);
    expect((await metrics.notifyDropped.get()).values.find((v) => v.labels.sink === 'mqtt' && v.labels.reason === 'invalid')?.value).toBe(1);
  });

  it('resumes after a restart: events written while stopped, and events read but never acknowledged', async () => {
    await notifier.stop();
    const whileStopped = poseEvent({ streamId: 'door', type: 'posture', seq: 800, attributes: { posture: 'lying' } });
    await writePoseEvent(redis, whileStopped);
    // A notifier that read an event and died before acknowledging it: the entry is pending for this consumer.
    const unacked = poseEvent({ streamId: 'door', type: 'posture', seq: 900, attributes: { posture: 'standing' } });
    await writePoseEvent(redis, unacked);
    const taken = await redis.xreadgroup('GROUP', notifyGroup('mqtt'), 'notify-test', 'COUNT', 10, 'STREAMS', keys.poseEvents('door'), '>');
    expect(taken).not.toBeNull();
    expect(await pendingEvents(redis, 'door', 'mqtt')).toBe(2);

    notifier = await startNotifier(config, { logger: logs.logger, metrics, blockMs: 200 });
    for (const event of [whileStopped, unacked]) {
      await probe.waitFor(`${prefix}/door/events/posture`, (m) => (json(m) as { id: string }).id === event.id);
    }
    await waitUntil(async () => (await pendingEvents(redis, 'door', 'mqtt')) === 0);
  });

  it('never logs the MQTT password', () => {
    expect(logs.text()).toContain('connected to mqtt broker');
    expect(logs.text()).not.toContain(mqttConfig.password);
  });
});
