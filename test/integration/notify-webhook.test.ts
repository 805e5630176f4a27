import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../pipeline/obs/metrics.js';
import { createRedis } from '../../pipeline/redis/client.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import type { PoseEvent } from '../../pipeline/wire/v1.js';
import { startNotifier, type NotifierHandle } from '../../workers/notify/main.js';
import { verifyWebhook } from '../../workers/notify/webhook/signature.js';
import { freePort, testRedisUrl } from '../support/env.js';
import { capturingLogger, notifyTestConfig, pendingEvents, waitUntil } from '../support/notify.js';
import { poseEvent, writePoseEvent } from '../support/pose-events.js';

/**
 * Webhooks against real HTTP receivers (node:http) and real Redis: signed bodies, Basic auth from URL credentials,
 * per-endpoint filters, retries then a counted drop when the receiver is down, the bounded queue's drop-oldest
 * policy, acknowledgement once every endpoint settled, and no secret in any log line.
 */

const DB = 52;
const redisUrl = testRedisUrl(DB);
const redis = createRedis(redisUrl, { name: 'test', logger: pino({ level: 'silent' }) });
const SECRET = 'whsec-test-0123456789';
const HOOK_PATH = '/api/webhook/hook-id-that-is-secret';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A receiver that records requests and answers with `status()`, or holds them while `hold` is set. */
class Receiver {
  readonly requests: Received[] = [];
  status = 200;
  private held: Array<() => void> = [];
  hold = false;
  private server!: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.requests.push({ path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks) });
        const answer = () => response.writeHead(this.status).end();
        if (this.hold) this.held.push(answer);
        else answer();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  release(): void {
    this.hold = false;
    for (const answer of this.held.splice(0)) answer();
  }

  events(): PoseEvent[] {
    return this.requests.map((request) => JSON.parse(request.body.toString()) as PoseEvent);
  }

  async stop(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const main = new Receiver();
const flaky = new Receiver();
const slow = new Receiver();
const metrics = createMetrics();
const logs = capturingLogger();
let downPort = 0;
let notifier: NotifierHandle;

const metricValue = async (counter: 'notifyDropped' | 'notifyFailed' | 'notifyDelivered', labels: Record<string, string>) =>
  (await metrics[counter].get()).values.find((v) => Object.entries(labels).every(([k, value]) => (v.labels as Record<string, unknown>)[k] === value))?.value ?? 0;

const retryFast = { maxAttempts: 3, retryInitialMs: 20, retryMaxMs: 100, timeoutMs: 2_000 };

beforeAll(async () => {
  await redis.flushdb();
  const registry = new StreamRegistry(redis);
  for (const id of ['door', 'hall', 'lab', 'yard']) await registry.add({ id, url: 'test://ball' });
  await Promise.all([main.start(), flaky.start(), slow.start()]);
  downPort = await freePort();
  const config = notifyTestConfig(redisUrl, {
    webhooks: [
      { name: 'all', url: `http://alice:pa55word@127.0.0.1:${main.port}${HOOK_PATH}`, secret: SECRET, streams: ['door', 'hall'] },
      { name: 'falls-at-door', url: `http://127.0.0.1:${main.port}/falls`, secret: SECRET, streams: ['door'], types: ['fall'] },
      { name: 'flaky', url: `http://127.0.0.1:${flaky.port}/hook`, secret: SECRET, streams: ['lab'], ...retryFast },
      { name: 'down', url: `http://bob:down-pass@127.0.0.1:${downPort}/hook/down-secret-path?token=down-token`, secret: SECRET, streams: ['lab'], ...retryFast },
      { name: 'slow', url: `http://127.0.0.1:${slow.port}/slow`, secret: SECRET, streams: ['yard'], queueLimit: 2, dropPolicy: 'drop-oldest' },
    ],
  });
  notifier = await startNotifier(config, { logger: logs.logger, metrics, blockMs: 200 });
});

afterAll(async () => {
  await notifier?.stop();
  await Promise.all([main.stop(), flaky.stop(), slow.stop()]);
  await redis.flushdb();
  redis.disconnect();
});

describe('notifier: webhooks', () => {
  it('POSTs the event as JSON with a signature the receiver verifies, and Basic auth from the URL', async () => {
    const fall = poseEvent({ streamId: 'door', type: 'fall', seq: 42 });
    await writePoseEvent(redis, fall);
    await waitUntil(() => main.requests.filter((r) => r.path === HOOK_PATH).length === 1);
    const request = main.requests.find((r) => r.path === HOOK_PATH)!;
    expect(JSON.parse(request.body.toString())).toEqual(fall);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-posestream-event-id']).toBe(fall.id);
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from('alice:pa55word').toString('base64')}`);
    const timestamp = String(request.headers['x-posestream-timestamp']);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(30);
    // Recomputed here with node:crypto, independently of the notifier's code, over the exact received bytes.
    const expected = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.`).update(request.body).digest('hex')}`;
    expect(request.headers['x-posestream-signature']).toBe(expected);
    expect(verifyWebhook(SECRET, { signature: expected, timestamp }, request.body)).toEqual({ ok: true });
    expect(verifyWebhook('another-secret-0000', { signature: expected, timestamp }, request.body).ok).toBe(false);
    await waitUntil(async () => (await pendingEvents(redis, 'door', 'webhook')) === 0);
  });

  it('applies per-endpoint stream and type filters', async () => {
    await writePoseEvent(redis, poseEvent({ streamId: 'door', type: 'posture', seq: 50, attributes: { posture: 'sitting' } }));
    await writePoseEvent(redis, poseEvent({ streamId: 'hall', type: 'fall', seq: 60 }));
    await writePoseEvent(redis, poseEvent({ streamId: 'door', type: 'fall', seq: 70 }));
    await waitUntil(() => main.requests.filter((r) => r.path === '/falls').length === 2 && main.requests.filter((r) => r.path === HOOK_PATH).length === 4);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const falls = main.requests.filter((r) => r.path === '/falls').map((r) => JSON.parse(r.body.toString()) as PoseEvent);
    expect(falls.map((e) => `${e.streamId}/${e.type}/${e.seq}`)).toEqual(['door/fall/42', 'door/fall/70']);
    expect(main.events().filter((e) => e.streamId === 'hall').length).toBe(1);
  });

  it('retries a failing receiver with back-off, then drops and counts the event (receiver down: same)', async () => {
    flaky.status = 503;
    const event = poseEvent({ streamId: 'lab', type: 'fall', seq: 80 });
    await writePoseEvent(redis, event);
    await waitUntil(async () => (await metricValue('notifyDropped', { sink: 'webhook:flaky', reason: 'retries_exhausted' })) === 1);
    await waitUntil(async () => (await metricValue('notifyDropped', { sink: 'webhook:down', reason: 'retries_exhausted' })) === 1);
    expect(flaky.requests.length).toBe(3);
    expect(flaky.events().every((e) => e.id === event.id)).toBe(true);
    // Each attempt is signed afresh (its own timestamp), so a late retry still passes a receiver's time window.
    for (const request of flaky.requests) {
      expect(verifyWebhook(SECRET, { signature: String(request.headers['x-posestream-signature']), timestamp: String(request.headers['x-posestream-timestamp']) }, request.body).ok).toBe(true);
    }
    expect(await metricValue('notifyFailed', { sink: 'webhook:flaky' })).toBe(3);
    expect(await metricValue('notifyFailed', { sink: 'webhook:down' })).toBe(3);
    // Both endpoints settled the event (dropped): it is acknowledged, not re-delivered forever.
    await waitUntil(async () => (await pendingEvents(redis, 'lab', 'webhook')) === 0);

    flaky.status = 200;
    const next = poseEvent({ streamId: 'lab', type: 'fall', seq: 90 });
    await writePoseEvent(redis, next);
    await waitUntil(() => flaky.events().some((e) => e.id === next.id));
    // The receiver records a request before it answers: the notifier counts the delivery a moment later.
    await waitUntil(async () => (await metricValue('notifyDelivered', { sink: 'webhook:flaky' })) === 1);
  });

  it('bounds each endpoint\'s queue: drop-oldest evicts the oldest waiting events and counts them', async () => {
    slow.hold = true;
    const events = [1, 2, 3, 4, 5].map((n) => poseEvent({ streamId: 'yard', type: 'posture', seq: n * 10, attributes: { posture: 'standing' } }));
    for (const event of events) await writePoseEvent(redis, event);
    await waitUntil(async () => (await metricValue('notifyDropped', { sink: 'webhook:slow', reason: 'queue_full' })) === 2);
    await waitUntil(() => slow.requests.length === 1);
    slow.release();
    await waitUntil(() => slow.requests.length === 3);
    expect(slow.events().map((e) => e.seq)).toEqual([10, 40, 50]);
    await waitUntil(async () => (await pendingEvents(redis, 'yard', 'webhook')) === 0);
  });

  it('logs drops once per burst and never logs a secret, URL credentials or URL path', () => {
    const text = logs.text();
    expect(text).toContain('webhook down: dropping events');
    expect(text.split('webhook slow: dropping events').length - 1).toBe(1);
    for (const secret of [SECRET, 'pa55word', 'alice', 'down-pass', 'down-secret-path', 'down-token', 'hook-id-that-is-secret']) {
      expect(text).not.toContain(secret);
    }
  });
});
