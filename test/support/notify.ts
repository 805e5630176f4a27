import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { configSchema, type PosestreamConfig } from '../../config/schema.js';
import { createLogger, type Logger } from '../../pipeline/obs/logger.js';
import { keys, notifyGroup } from '../../pipeline/redis/keys.js';
import type { SinkKind } from '../../workers/notify/sink.js';

/**
 * Helpers for notifier tests (and the end-to-end "fall from a real clip arrives on MQTT" test): a config with a
 * notify section, a logger whose output the test can search for secrets, and an MQTT probe that records what it
 * receives. The notifier itself runs in-process: `startNotifier(config, { logger, metrics })` from
 * workers/notify/main.ts.
 */

export function notifyTestConfig(redisUrl: string, notify: Record<string, unknown>): PosestreamConfig {
  return configSchema.parse({ redis: { url: redisUrl }, model: { path: 'unused.xml' }, notify });
}

/** The production logger (with its redaction) writing into memory, for assertions such as "no secret was logged". */
export function capturingLogger(): { logger: Logger; text: () => string } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger('test', { level: 'debug', destination: stream, pretty: false }), text: () => lines.join('') };
}

export interface ReceivedMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

/** An MQTT client that subscribes to topics and keeps every message, for waitFor(...) assertions. */
export class MqttProbe {
  readonly messages: ReceivedMessage[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => this.messages.push({ topic, payload, retain: packet.retain }));
  }

  static async connect(url: string, topics: string[], options: IClientOptions = {}): Promise<MqttProbe> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 200, ...options });
    const probe = new MqttProbe(client);
    await client.subscribeAsync(topics, { qos: 1 });
    return probe;
  }

  /** The first message (in arrival order) on `topic` that satisfies `accept`, waiting up to timeoutMs. */
  async waitFor(topic: string, accept: (message: ReceivedMessage) => boolean = () => true, timeoutMs = 10_000): Promise<ReceivedMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((message) => message.topic === topic && accept(message));
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(`no matching message on ${topic} within ${timeoutMs} ms; got: ${this.messages.map((m) => `${m.topic}=${m.payload.toString().slice(0, 40)}`).join(', ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  on(topic: string): ReceivedMessage[] {
    return this.messages.filter((message) => message.topic === topic);
  }

  /** Clears the retained messages this probe saw (the shared test broker lives across runs). */
  async clearRetained(): Promise<void> {
    const topics = new Set(this.messages.filter((m) => m.retain || m.payload.length > 0).map((m) => m.topic));
    for (const topic of topics) await this.client.publishAsync(topic, '', { retain: true, qos: 1 });
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

export function json(message: ReceivedMessage): unknown {
  return JSON.parse(message.payload.toString());
}

/** Events of a stream read by a sink kind's group and not yet acknowledged. */
export async function pendingEvents(redis: Redis, streamId: string, kind: SinkKind): Promise<number> {
  const summary = (await redis.xpending(keys.poseEvents(streamId), notifyGroup(kind))) as [number, ...unknown[]];
  return Number(summary[0]);
}

export async function waitUntil(condition: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
