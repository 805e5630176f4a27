import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../pipeline/redis/client.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import { testMqttUrl, testRedisUrl } from '../support/env.js';
import { json, MqttProbe } from '../support/notify.js';
import { poseEvent, writePoseEvent } from '../support/pose-events.js';
import { exited, spawnCli } from './pipeline-support.js';

/**
 * `posestream notify` as a real process against the suite's mosquitto: it refuses to start without sinks, delivers
 * events, and keeps Home Assistant's availability right: killed (SIGKILL) the broker publishes its last will
 * `offline`; stopped (SIGTERM) it publishes `offline` itself and exits 0.
 */

const DB = 53;
const redisUrl = testRedisUrl(DB);
const redis = createRedis(redisUrl, { name: 'test', logger: pino({ level: 'silent' }) });
const prefix = `pscli-${randomBytes(4).toString('hex')}`;
let probe: MqttProbe;

function writeConfig(notify: Record<string, unknown>): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'posestream-notify-')), 'posestream.yaml');
  writeFileSync(file, stringify({ redis: { url: redisUrl }, model: { path: 'unused.xml' }, notify }));
  return file;
}

const status = () => probe.on(`${prefix}/status`).map((m) => m.payload.toString());

async function waitForStatus(value: string, count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (status().filter((s) => s === value).length < count) {
    if (Date.now() > deadline) throw new Error(`status never became "${value}" (${count}x): ${status().join(',')}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  await redis.flushdb();
  await new StreamRegistry(redis).add({ id: 'porch', url: 'test://ball' });
  probe = await MqttProbe.connect(testMqttUrl, [`${prefix}/#`]);
});

afterAll(async () => {
  await probe?.clearRetained();
  await probe?.close();
  await redis.flushdb();
  redis.disconnect();
});

describe('posestream notify', () => {
  it('refuses to start without a sink, saying what to configure', async () => {
    const child = spawnCli(['notify', '-c', writeConfig({})]);
    expect(await exited(child, 30_000)).toBe(2);
    expect(child.output().stderr).toContain('no notification sinks configured: add notify.mqtt or notify.webhooks to the config [PS_NOTIFY_NO_SINKS]');
  });

  it('delivers events; the broker publishes its last will when it is killed; SIGTERM says offline and exits 0', async () => {
    const file = writeConfig({ mqtt: { url: testMqttUrl, topicPrefix: prefix, discovery: false } });
    const first = spawnCli(['notify', '-c', file]);
    await waitForStatus('online', 1);
    const event = poseEvent({ streamId: 'porch', type: 'fall', seq: 5 });
    await writePoseEvent(redis, event);
    expect(json(await probe.waitFor(`${prefix}/porch/events/fall`, undefined, 15_000))).toEqual(event);

    first.kill('SIGKILL');
    await exited(first, 10_000);
    await waitForStatus('offline', 1);

    const second = spawnCli(['notify', '-c', file]);
    await waitForStatus('online', 2);
    second.kill('SIGTERM');
    expect(await exited(second, 15_000)).toBe(0);
    await waitForStatus('offline', 2);
    expect(second.output().stderr).not.toContain('"level":50');
  });
});
