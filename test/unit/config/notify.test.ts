import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../config/load.js';
import { withSecretsMasked } from '../../../cli/commands/check-config.js';

const base = 'model: { path: m.xml }\n';

function problems(yaml: string): string[] {
  try {
    parseConfig(base + yaml, 'test.yaml', {});
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('notify config', () => {
  it('has no sinks by default and fills MQTT and webhook defaults', () => {
    expect(parseConfig(base, 'test.yaml', {}).notify).toEqual({ webhooks: [] });
    const config = parseConfig(`${base}notify:\n  mqtt: { url: "mqtt://127.0.0.1:1883" }\n  webhooks:\n    - { name: ha, url: "http://ha.lan:8123/api/webhook/x", secret: "0123456789abcdef" }\n`, 'test.yaml', {});
    expect(config.notify.mqtt).toMatchObject({ topicPrefix: 'posestream', discoveryPrefix: 'homeassistant', qos: 1, retainState: true, discovery: true });
    expect(config.notify.webhooks[0]).toMatchObject({ queueLimit: 1_000, dropPolicy: 'drop-oldest', maxAttempts: 8 });
  });

  it('names the field of each mistake, never echoing a URL', () => {
    const found = problems(
      'notify:\n  mqtt: { url: "http://user:hunter2@broker", qos: 3, topicPrefix: "a/#" }\n' +
        '  webhooks:\n    - { name: a, url: "ftp://x", secret: short, types: [fall, jump] }\n    - { name: a, url: "http://x", secret: "0123456789abcdef", retryInitialMs: 500, retryMaxMs: 100 }\n',
    );
    const text = found.join('\n');
    expect(text).toContain('notify.mqtt.url: unsupported scheme "http:"');
    expect(text).toContain('notify.mqtt.qos');
    expect(text).toContain('notify.mqtt.topicPrefix');
    expect(text).toContain('notify.webhooks[0].url');
    expect(text).toContain('notify.webhooks[0].secret: must be at least 16 characters');
    expect(text).toContain('notify.webhooks[0].types[1]');
    expect(text).toContain('notify.webhooks[1].retryMaxMs: must be >= retryInitialMs');
    expect(text).not.toContain('hunter2');
    expect(text).toContain('notify.mqtt.qos: must be 0, 1 or 2');
    expect(problems('notify: { mqtt: { url: "mqtt://b", pasword: x } }\n').join()).toContain('notify.mqtt: Unrecognized key');
    const hook = '{ name: a, url: "http://x", secret: "0123456789abcdef" }';
    expect(problems(`notify: { webhooks: [${hook}, ${hook}] }\n`)).toEqual(['notify.webhooks[1].name: duplicate webhook name "a" (also webhooks[0])']);
  });

  it('check-config --json masks the MQTT password, webhook secrets and URL credentials and paths', () => {
    const config = parseConfig(
      `${base}notify:\n  mqtt: { url: "mqtt://bob:hunter2@broker:1883", password: "mqtt-pass" }\n  webhooks:\n    - { name: ha, url: "http://u:pw@ha.lan:8123/api/webhook/secret-hook-id", secret: "0123456789abcdef" }\n`,
      'test.yaml',
      {},
    );
    const text = JSON.stringify(withSecretsMasked(config));
    for (const secret of ['hunter2', 'mqtt-pass', 'secret-hook-id', '0123456789abcdef', 'u:pw']) expect(text).not.toContain(secret);
    expect(text).toContain('mqtt://broker:1883');
    expect(text).toContain('http://ha.lan:8123/***');
  });
});
