/**
 * A fall in a real clip reaches Home Assistant over a real broker: `posestream run` (ingest, worker with OpenVINO on
 * the shared FP32 model, tracker, event engine, notifier) on one development fall clip of GMDCSA24, lossless, with
 * an MQTT sink on the suite's mosquitto. The fall event arrives on its topic as wire-v1 JSON, the stream's fall
 * binary sensor (announced by retained discovery) turns ON and stays retained, and the annotated snapshot is published.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultModelPaths, repoRoot } from '../../pipeline/assets.js';
import { poseEventSchema } from '../../pipeline/wire/v1.js';
import { assetPath, skipWithout } from '../support/assets.js';
import { testMqttUrl, testRedisUrl } from '../support/env.js';
import { MqttProbe } from '../support/notify.js';
import { stopChild } from '../support/child-process.js';
import { spawnCli } from './pipeline-support.js';

const DB = 41;
const CLIP = 'S1_Fall_13.mp4';
const STREAM = 'bedroom';

describe.skipIf(skipWithout('fallsDev') || !existsSync(defaultModelPaths.fp32))('a fall from a real clip on MQTT', () => {
  const redis = new Redis(testRedisUrl(DB));
  const prefix = `psfall-${randomBytes(4).toString('hex')}`;
  let run: ReturnType<typeof spawnCli> | undefined;
  let probe: MqttProbe | undefined;

  afterAll(async () => {
    if (run) await stopChild(run);
    await probe?.client.endAsync();
    await redis.flushdb();
    redis.disconnect();
  });

  it('publishes the fall event, turns the fall sensor ON and retains the snapshot', async () => {
    await redis.flushdb();
    probe = await MqttProbe.connect(testMqttUrl, [`${prefix}/#`, 'homeassistant/binary_sensor/#']);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'posestream-fall-mqtt-')), 'posestream.yaml');
    writeFileSync(
      file,
      stringify({
        redis: { url: testRedisUrl(DB) },
        model: { path: defaultModelPaths.fp32, cacheDir: path.join(repoRoot, 'build', 'ov-cache') },
        gateway: { host: '127.0.0.1', port: 0 },
        notify: { mqtt: { url: testMqttUrl, topicPrefix: prefix } },
        streams: [{ id: STREAM, url: path.join(assetPath('fallsDev'), CLIP), mode: 'lossless' }],
      }),
    );
    run = spawnCli(['run', '--config', file]);

    const eventMessage = await probe.waitFor(`${prefix}/${STREAM}/events/fall`, () => true, 180_000);
    const event = poseEventSchema.parse(JSON.parse(eventMessage.payload.toString()));
    expect(event).toMatchObject({ type: 'fall', streamId: STREAM });
    expect(event.trackId).toBeGreaterThan(0);

    const sensor = await probe.waitFor(`${prefix}/${STREAM}/fall`, (message) => message.payload.toString() === 'ON', 10_000);
    expect(sensor.payload.toString()).toBe('ON');
    const discovery = probe.messages.find(
      (message) => message.topic.endsWith('/fall/config') && (JSON.parse(message.payload.toString()) as { state_topic?: string }).state_topic === `${prefix}/${STREAM}/fall`,
    );
    expect(discovery, 'a binary_sensor discovery config for this stream').toBeDefined();
    // Retained: a subscriber that comes later (Home Assistant restarting) gets it and the sensor's state at once.
    const late = await MqttProbe.connect(testMqttUrl, [discovery!.topic, `${prefix}/${STREAM}/fall`]);
    try {
      expect((await late.waitFor(discovery!.topic, () => true, 5_000)).retain).toBe(true);
      expect((await late.waitFor(`${prefix}/${STREAM}/fall`, () => true, 5_000)).retain).toBe(true);
    } finally {
      await late.client.endAsync();
    }

    const snapshot = await probe.waitFor(`${prefix}/${STREAM}/fall/snapshot`, () => true, 10_000);
    expect(snapshot.payload.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
  }, 240_000);
});
