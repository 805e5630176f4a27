import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import { startGateway, type RunningGateway } from '../../gateway/main.js';
import { createLogger } from '../../pipeline/obs/logger.js';
import { poseEventCommands } from '../../pipeline/redis/event-stream.js';
import { keys } from '../../pipeline/redis/keys.js';
import { ResultPublisher } from '../../pipeline/redis/result-stream.js';
import { WIRE_VERSION, type PoseEvent, type PoseEventType } from '../../pipeline/wire/v1.js';
import { GatewayTestClient } from '../support/gateway-client.js';
import { testRedisUrl } from '../support/env.js';

/**
 * Pose events through the gateway against a real Redis: events written the way the worker's event stage writes
 * them (poseEventCommands in the batch's MULTI, before the results), delivered on the `events` WebSocket channel
 * (fromStart replay exactly once and in order, then the end-of-stream) and listed over REST.
 */

const DB = 60;
const TOKEN = 'events-token-0123';
const config = configSchema.parse({
  redis: { url: testRedisUrl(DB) },
  model: { path: 'unused.xml' },
  gateway: { port: 0, host: '127.0.0.1', token: TOKEN, clientQueueLimit: 16 },
  streams: [
    { id: 'hall', url: 'test://ball', enabled: false },
    { id: 'door', url: 'test://snow', enabled: false },
  ],
});
const RETENTION_MS = 3_600_000;
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);

function event(streamId: string, seq: number, type: PoseEventType = 'line_cross', extra: Partial<PoseEvent> = {}): PoseEvent {
  const now = Date.now();
  return {
    v: WIRE_VERSION, kind: 'event', id: `${streamId}:${type}:1:${seq}${type === 'line_cross' ? ':door' : ''}`, streamId, type, trackId: 1, seq,
    captureTs: now - 50, atSeq: seq, atCaptureTs: now - 50, confidence: 0.9, attributes: { count: seq }, snapshot: false, publishedTs: now,
    ...(type === 'line_cross' ? { line: 'door', direction: 'left_to_right' as const } : {}),
    ...extra,
  };
}

describe('gateway pose events (real Redis)', () => {
  let redis: Redis;
  let gateway: RunningGateway;
  const clients: GatewayTestClient[] = [];
  let wsUrl: string;

  /** One worker batch: the events (and snapshots) first, then the results, in one MULTI. */
  async function commit(events: PoseEvent[], options: { snapshot?: Buffer; eos?: string } = {}): Promise<void> {
    const multi = redis.multi();
    for (const one of events) {
      for (const [command, ...args] of poseEventCommands(one, { retentionMs: RETENTION_MS, nowMs: Date.now(), ...(options.snapshot ? { snapshot: options.snapshot } : {}) })) multi.call(command, ...args);
    }
    if (options.eos) new ResultPublisher({ retention: 100 }).addInto(multi, { v: 1, kind: 'eos', streamId: options.eos, lastSeq: 9999, reason: 'eof', publishedTs: Date.now() });
    await multi.exec();
  }

  async function connect(): Promise<GatewayTestClient> {
    const client = await GatewayTestClient.connect(`${wsUrl}?token=${TOKEN}`);
    clients.push(client);
    await client.waitFor(() => client.of('hello').length === 1, 5_000, 'hello');
    return client;
  }

  async function get(path: string): Promise<{ status: number; body: any; type: string | null; bytes: Buffer }> {
    const response = await fetch(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const bytes = Buffer.from(await response.arrayBuffer());
    const type = response.headers.get('content-type');
    return { status: response.status, type, bytes, body: type?.startsWith('application/json') ? JSON.parse(bytes.toString()) : undefined };
  }

  beforeAll(async () => {
    redis = new Redis(testRedisUrl(DB));
    await redis.flushdb();
    gateway = await startGateway(config, { logger: createLogger('gateway-events-test', 'warn') });
    wsUrl = `${gateway.url.replace('http', 'ws')}/ws`;
  });

  beforeEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await gateway?.stop();
    await redis?.flushdb();
    redis?.disconnect();
  });

  it('fromStart replays the retained events, continues live with no gap and no duplicate, and ends with the end-of-stream', async () => {
    for (let seq = 0; seq < 300; seq += 50) await commit(Array.from({ length: 50 }, (_, i) => event('hall', seq + i)));
    const client = await connect();
    client.send({ v: 1, type: 'subscribe', id: 'e', streams: ['hall'], channels: ['events'], fromStart: true });
    // Keep committing while the replay runs, so the hand-over from replay to live is exercised; the last batch
    // carries the end-of-stream with its final events.
    for (let batch = 0; batch < 20; batch++) {
      await commit(Array.from({ length: 10 }, (_, i) => event('hall', 300 + batch * 10 + i)), batch === 19 ? { eos: 'hall' } : {});
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await client.waitFor(() => client.of('result').length === 1, 15_000, 'the end-of-stream');
    expect(client.of('event').map((m) => m.event.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    // The end-of-stream comes after every event of its stream, and nothing but events and it arrive.
    expect(client.messages.at(-1)).toMatchObject({ type: 'result', result: { kind: 'eos', streamId: 'hall' } });
    expect(client.messages.filter((m) => !['hello', 'subscribed', 'event', 'result'].includes(m.type))).toEqual([]);
  });

  it('a replay of a stream that has ended ends with its end-of-stream, once', async () => {
    const client = await connect();
    client.send({ v: 1, type: 'subscribe', id: 'late', streams: ['hall'], channels: ['events'], fromStart: true });
    await client.waitFor(() => client.of('result').length === 1, 15_000, 'the end-of-stream after the replay');
    expect(client.of('event')).toHaveLength(500);
    expect(client.messages.at(-1)).toMatchObject({ type: 'result', result: { kind: 'eos', streamId: 'hall' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(client.of('result')).toHaveLength(1);
  });

  it('delivers live events only to subscribers of that stream, results subscribers get none', async () => {
    const events = await connect();
    const results = await connect();
    events.send({ v: 1, type: 'subscribe', streams: ['door'], channels: ['events'] });
    results.send({ v: 1, type: 'subscribe', streams: ['door', 'hall'], channels: ['results'] });
    await events.waitFor(() => events.of('subscribed').length === 1);
    await results.waitFor(() => results.of('subscribed').length === 1);
    await commit([event('hall', 1000), event('door', 1, 'fall', { snapshot: true })], { snapshot: JPEG });
    await events.waitFor(() => events.of('event').length === 1, 5_000, 'the door event');
    expect(events.of('event')[0]!.event).toMatchObject({ id: 'door:fall:1:1', type: 'fall' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(events.of('event')).toHaveLength(1);
    expect(results.of('event')).toHaveLength(0);
  });

  it('lists events over REST: newest, since, by type and stream, and serves snapshots', async () => {
    await redis.del(keys.poseEvents('door'));
    const before = Date.now();
    await commit([event('door', 10, 'zone_enter', { zone: 'mat', id: 'door:zone_enter:1:10:mat' }), event('door', 11), event('door', 12, 'fall', { snapshot: true })], { snapshot: JPEG });
    const newest = await get('/api/events?stream=door&limit=2');
    expect(newest.status).toBe(200);
    expect(newest.body.events.map((e: PoseEvent) => e.seq)).toEqual([11, 12]);
    const all = await get(`/api/events?stream=door&since=${before - 1}`);
    expect(all.body.events.map((e: PoseEvent) => e.seq)).toEqual([10, 11, 12]);
    const page = await get(`/api/events?stream=door&since=${before - 1}&limit=1`);
    expect(page.body.events.map((e: PoseEvent) => e.seq)).toEqual([10]);
    const rest = await get(`/api/events?stream=door&since=${page.body.next}`);
    expect(rest.body.events.map((e: PoseEvent) => e.seq)).toEqual([11, 12]);
    const falls = await get(`/api/events?type=fall,recovered&since=${new Date(before - 1).toISOString()}`);
    expect(falls.body.events.map((e: PoseEvent) => e.id)).toEqual(['door:fall:1:12']);

    const snapshot = await get(`/api/events/${encodeURIComponent('door:fall:1:12')}/snapshot.jpg`);
    expect(snapshot.status).toBe(200);
    expect(snapshot.type).toBe('image/jpeg');
    expect(snapshot.bytes.equals(JPEG)).toBe(true);
    expect(await redis.pttl(keys.eventSnapshot('door', 'door:fall:1:12'))).toBeGreaterThan(RETENTION_MS - 60_000);
  });

  it('answers bad queries with 400/404 naming the problem', async () => {
    expect((await get('/api/events?type=tumble')).body.error).toMatchObject({ code: 'PS_EVENTS_BAD_QUERY', message: expect.stringContaining('"tumble"') });
    expect((await get('/api/events?limit=0')).status).toBe(400);
    expect((await get('/api/events?since=yesterday')).body.error.code).toBe('PS_EVENTS_BAD_QUERY');
    expect((await get('/api/events?stream=nope')).status).toBe(404);
    expect((await get('/api/events/door%3Afall%3A9%3A99/snapshot.jpg')).body.error.code).toBe('PS_EVENT_NOT_FOUND');
    expect((await get('/api/events/nonsense/snapshot.jpg')).status).toBe(404);
    const unauthorised = await fetch(`${gateway.url}/api/events`);
    expect(unauthorised.status).toBe(401);
  });

  it('trims events by age as new ones are written', async () => {
    await redis.del(keys.poseEvents('door'));
    const old = event('door', 1);
    const multi = redis.multi();
    // An event published "two hours ago" (explicit entry id), then a new one with a one-hour retention.
    multi.xadd(keys.poseEvents('door'), `${Date.now() - 7_200_000}-0`, 'e', JSON.stringify(old));
    for (const [command, ...args] of poseEventCommands(event('door', 2), { retentionMs: RETENTION_MS, nowMs: Date.now() })) multi.call(command, ...args);
    await multi.exec();
    const listed = await get('/api/events?stream=door');
    expect(listed.body.events.map((e: PoseEvent) => e.seq)).toEqual([2]);
  });
});
