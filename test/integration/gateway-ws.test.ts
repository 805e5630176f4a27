import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import { startGateway, type RunningGateway } from '../../gateway/main.js';
import { createLogger } from '../../pipeline/obs/logger.js';
import { createMetrics, type Metrics } from '../../pipeline/obs/metrics.js';
import { keys, VIEWERS_TTL_SEC } from '../../pipeline/redis/keys.js';
import { ResultPublisher } from '../../pipeline/redis/result-stream.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import { MAX_CLIENT_MESSAGE_BYTES, type FrameMeta, type PoseResult } from '../../pipeline/wire/v1.js';
import { GatewayTestClient } from '../support/gateway-client.js';
import { testRedisUrl } from '../support/env.js';

/**
 * The WebSocket hub against a real Redis: results are written the way workers write them (ResultPublisher in a
 * MULTI), and the gateway must fan them out, replay them, and keep misbehaving clients from hurting others.
 */

const DB = 42;
const TOKEN = 'test-token-0123';
const ORIGIN = 'http://dashboard.example';

const config = configSchema.parse({
  redis: { url: testRedisUrl(DB) },
  model: { path: 'unused.xml' },
  gateway: { port: 0, host: '127.0.0.1', token: TOKEN, allowedOrigins: [ORIGIN], clientQueueLimit: 16 },
  streams: [
    { id: 'cam1', url: 'test://ball', enabled: false },
    { id: 'cam2', url: 'test://snow', enabled: false },
  ],
});

const person = (i: number) => ({
  box: [10 + i, 20, 110 + i, 220] as [number, number, number, number],
  score: 0.9,
  keypoints: Array.from({ length: 17 }, (_, k) => [30 + k * 4 + i, 40 + k * 10, 0.9] as [number, number, number]),
});

function pose(streamId: string, seq: number, persons = 1): PoseResult {
  const now = Date.now();
  return {
    v: 1, kind: 'pose', streamId, seq, captureTs: now - 20, sourceWidth: 640, sourceHeight: 360,
    persons: Array.from({ length: persons }, (_, i) => person(i)),
    timings: { decodeMs: 2, queueMs: 3, inferMs: 10, postMs: 1 }, worker: 'test-worker', publishedTs: now,
  };
}

describe('gateway WebSocket hub (real Redis)', () => {
  let redis: Redis;
  let gateway: RunningGateway;
  let metrics: Metrics;
  const publisher = new ResultPublisher({ retention: 10_000 });
  const clients: GatewayTestClient[] = [];
  let wsUrl: string;

  async function publish(results: PoseResult[], preview?: { meta: FrameMeta; pixels: Buffer }): Promise<void> {
    const multi = redis.multi();
    for (const result of results) publisher.addInto(multi, result, preview);
    await multi.exec();
  }

  async function connect(options: { query?: string; headers?: Record<string, string> } = {}): Promise<GatewayTestClient> {
    const client = await GatewayTestClient.connect(`${wsUrl}${options.query ?? `?token=${TOKEN}`}`, { headers: options.headers });
    clients.push(client);
    await client.waitFor(() => client.of('hello').length === 1, 5_000, 'hello');
    return client;
  }

  beforeAll(async () => {
    redis = new Redis(testRedisUrl(DB));
    await redis.flushdb();
    metrics = createMetrics();
    gateway = await startGateway(config, { logger: createLogger('gateway-test', 'warn'), metrics });
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

  it('rejects a missing or wrong token (401) and a foreign origin (403) at the upgrade', async () => {
    await expect(GatewayTestClient.connect(wsUrl)).rejects.toMatchObject({ statusCode: 401 });
    await expect(GatewayTestClient.connect(`${wsUrl}?token=wrong-token-xx`)).rejects.toMatchObject({ statusCode: 401 });
    await expect(GatewayTestClient.connect(`${wsUrl}?token=${TOKEN}`, { headers: { origin: 'http://evil.example' } })).rejects.toMatchObject({ statusCode: 403 });
    const viaHeader = await connect({ query: '', headers: { authorization: `Bearer ${TOKEN}`, origin: ORIGIN } });
    expect(viaHeader.of('hello')[0]).toMatchObject({ v: 1, streams: ['cam1', 'cam2'] });
    const rejected = await metrics.wsRejected.get();
    expect(rejected.values.find((v) => v.labels.reason === 'token')?.value).toBe(2);
    expect(rejected.values.find((v) => v.labels.reason === 'origin')?.value).toBe(1);
  });

  it('answers every invalid message with an error naming the problem and keeps serving everyone', async () => {
    const bad = await connect();
    const good = await connect();
    good.send({ v: 1, type: 'subscribe', id: 'g', streams: ['cam1'], channels: ['results'] });
    await good.waitFor(() => good.of('subscribed').length === 1, 5_000, 'subscribed');

    bad.send('{"v":1,"type":');
    bad.send({ v: 1, type: 'launch' });
    bad.send({ v: 1, type: 'subscribe', id: 'x', streams: ['cam1'], channels: ['video'] });
    bad.send({ v: 1, type: 'subscribe', id: 'y', streams: ['nope'], channels: ['results'] });
    bad.send({ v: 1, type: 'ping', id: 'z'.repeat(MAX_CLIENT_MESSAGE_BYTES + 10) });
    bad.ws.send(Buffer.from([1, 2, 3]));
    await bad.waitFor(() => bad.of('error').length === 6, 5_000, 'six errors');
    const errors = bad.of('error');
    expect(errors.map((e) => e.code)).toEqual(['PS_WS_BAD_JSON', 'PS_WS_UNKNOWN_TYPE', 'PS_WS_INVALID', 'PS_WS_UNKNOWN_STREAM', 'PS_WS_TOO_BIG', 'PS_WS_BINARY']);
    expect(errors[2]).toMatchObject({ id: 'x' });
    expect(errors[2]!.message).toMatch(/channels\.0/);
    expect(errors[3]!.message).toMatch(/unknown stream\(s\): nope/);

    bad.send({ v: 1, type: 'ping', id: 'still-here' });
    await bad.waitFor(() => bad.of('pong').length === 1, 5_000, 'pong');
    await publish([pose('cam1', 0), pose('cam1', 1)]);
    await good.waitFor(() => good.of('result').length === 2, 5_000, 'results after the bad client');
    expect(good.of('result').map((m) => (m.result.kind === 'pose' ? m.result.seq : -1))).toEqual([0, 1]);
    expect(bad.ws.readyState).toBe(bad.ws.OPEN);
  });

  it('fromStart replays the retained results and continues live with no gap and no duplicate', async () => {
    await publish(Array.from({ length: 300 }, (_, seq) => pose('cam2', seq)));
    const client = await connect();
    client.send({ v: 1, type: 'subscribe', id: 'r', streams: ['cam2'], channels: ['results'], fromStart: true });
    // Keep publishing while the replay runs, so the hand-over from replay to live is exercised.
    for (let batch = 0; batch < 20; batch++) {
      await publish(Array.from({ length: 10 }, (_, i) => pose('cam2', 300 + batch * 10 + i)));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await client.waitFor(() => client.of('result').length >= 500, 15_000, '500 results');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const seqs = client.of('result').map((m) => (m.result.kind === 'pose' ? m.result.seq : -1));
    expect(seqs).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it('drops for a client that stops reading, tells it, and never delays a reading client', async () => {
    const fast = await connect();
    const slow = await connect();
    for (const client of [fast, slow]) client.send({ v: 1, type: 'subscribe', streams: ['cam1'], channels: ['results'] });
    await fast.waitFor(() => fast.of('subscribed').length === 1);
    await slow.waitFor(() => slow.of('subscribed').length === 1);
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();

    const total = 4_000; // ~4 KB each with 4 persons: far more than socket buffers + the slow client's queue hold
    const started = Date.now();
    for (let seq = 0; seq < total; seq += 50) {
      await publish(Array.from({ length: 50 }, (_, i) => pose('cam1', 1000 + seq + i, 4)));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await fast.waitFor(() => fast.of('result').length >= total, 30_000, 'all results at the fast client');
    const fastMs = Date.now() - started;
    expect(fast.of('dropped')).toHaveLength(0);
    const dropped = await metrics.wsDropped.get();
    expect(dropped.values.find((v) => v.labels.channel === 'results')?.value ?? 0).toBeGreaterThan(0);

    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await slow.waitFor(() => slow.of('dropped').length > 0, 10_000, 'a dropped notice');
    const notice = slow.of('dropped').at(-1)!;
    expect(notice).toMatchObject({ streamId: 'cam1', channel: 'results' });
    expect(notice.count).toBeGreaterThan(0);
    // What the slow client did get is in order; together with what it lost it accounts for every result.
    await slow.waitFor(() => {
      const last = slow.of('dropped').at(-1)!.count;
      return slow.of('result').length + last === total;
    }, 10_000, 'received + dropped = published');
    const seqs = slow.of('result').map((m) => (m.result.kind === 'pose' ? m.result.seq : -1));
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(fastMs).toBeLessThan(20_000);
  });

  it('sends states, and "*" covers a stream registered after the subscription', async () => {
    const client = await connect();
    client.send({ v: 1, type: 'subscribe', id: 'all', streams: ['*'], channels: ['results', 'state'] });
    await client.waitFor(() => client.of('subscribed').length === 1);
    // Current states come right after the subscription.
    await client.waitFor(() => client.of('state').some((m) => m.state.streamId === 'cam1'), 5_000, 'current state of cam1');
    const registry = new StreamRegistry(redis);
    await registry.add({ id: 'late', url: 'test://ball', enabled: false });
    await registry.reportState({ v: 1, kind: 'state', streamId: 'late', state: 'error', reason: 'no camera here', since: Date.now(), restarts: 2 });
    await client.waitFor(() => client.of('state').some((m) => m.state.streamId === 'late' && m.state.state === 'error'), 5_000, 'state of the late stream');
    // The follow loop joins the new stream at its tail within one read timeout; publish until it is seen.
    for (let seq = 0; seq < 20 && !client.of('result').some((m) => m.result.streamId === 'late'); seq++) {
      await publish([pose('late', seq)]);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(client.of('result').some((m) => m.result.streamId === 'late')).toBe(true);
    client.send({ v: 1, type: 'unsubscribe', id: 'u', streams: ['*'], channels: ['results'] });
    await client.waitFor(() => client.of('unsubscribed').length === 1);
    const count = client.of('result').length;
    await publish([pose('late', 100)]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(client.of('result').length).toBe(count);
    await registry.remove('late');
  });

  it('closes a client that stops answering heartbeats', async () => {
    const heartbeatMetrics = createMetrics();
    const quick = await startGateway(config, { logger: createLogger('gateway-test', 'warn'), metrics: heartbeatMetrics, heartbeatMs: 200 });
    try {
      const client = await GatewayTestClient.connect(`${quick.url.replace('http', 'ws')}/ws?token=${TOKEN}`);
      clients.push(client);
      await client.waitFor(() => client.of('hello').length === 1);
      expect((await heartbeatMetrics.wsClients.get()).values[0]?.value).toBe(1);
      (client.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      await expect.poll(async () => (await heartbeatMetrics.wsClients.get()).values[0]?.value, { timeout: 3_000 }).toBe(0);
      const rejected = await heartbeatMetrics.wsRejected.get();
      expect(rejected.values.find((v) => v.labels.reason === 'heartbeat')?.value).toBe(1);
      // A stalled client never answers the close handshake either: shutdown must not wait for it.
      const stalled = await GatewayTestClient.connect(`${quick.url.replace('http', 'ws')}/ws?token=${TOKEN}`);
      clients.push(stalled);
      await stalled.waitFor(() => stalled.of('hello').length === 1);
      (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const stopping = Date.now();
      await quick.stop();
      expect(Date.now() - stopping).toBeLessThan(3_000);
    } finally {
      await quick.stop();
    }
  });

  it('sends annotated and plain JPEG frames from preview entries and marks the stream as watched', async () => {
    const annotated = await connect();
    const plain = await connect();
    annotated.send({ v: 1, type: 'subscribe', streams: ['cam1'], channels: ['frames'] });
    plain.send({ v: 1, type: 'subscribe', streams: ['cam1'], channels: ['frames'], annotated: false });
    await annotated.waitFor(() => annotated.of('subscribed').length === 1);
    await plain.waitFor(() => plain.of('subscribed').length === 1);
    await expect.poll(() => redis.ttl(keys.viewers('cam1')), { timeout: 5_000 }).toBeGreaterThan(0);
    expect(await redis.ttl(keys.viewers('cam1'))).toBeLessThanOrEqual(VIEWERS_TTL_SEC);

    const width = 640;
    const height = 360;
    const meta: FrameMeta = { v: 1, streamId: 'cam1', seq: 77, captureTs: Date.now(), publishTs: Date.now(), decodeMs: 1, width, height, sourceWidth: 640, sourceHeight: 360, format: 'rgb24' };
    const pixels = Buffer.alloc(width * height * 3, 40);
    // The preview loop reads from '$', so keep adding until it has started reading.
    for (let attempt = 0; attempt < 20 && (annotated.frames.length === 0 || plain.frames.length === 0); attempt++) {
      await publish([{ ...pose('cam1', 77, 1), captureTs: meta.captureTs }], { meta, pixels: Buffer.from(pixels) });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const [a] = annotated.frames;
    const [p] = plain.frames;
    expect(a?.header).toMatchObject({ streamId: 'cam1', seq: 77, width, height, annotated: true });
    expect(p?.header).toMatchObject({ streamId: 'cam1', seq: 77, annotated: false });
    for (const jpeg of [a!.jpeg, p!.jpeg]) expect([...jpeg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    // Skeleton pixels make the annotated JPEG differ from the flat grey plain one.
    expect(Buffer.compare(Buffer.from(a!.jpeg), Buffer.from(p!.jpeg))).not.toBe(0);
    expect(a!.jpeg.length).toBeGreaterThan(p!.jpeg.length);

    // The plain-frame client stops reading: it is counted and told about skipped frames, the other one keeps
    // receiving fresh frames.
    (plain.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const noise = Buffer.alloc(width * height * 3);
    const before = annotated.frames.length;
    for (let seq = 100; seq < 220; seq++) {
      for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761 + seq * 97) >>> 24;
      await publish([{ ...pose('cam1', seq, 1), captureTs: meta.captureTs }], { meta: { ...meta, seq }, pixels: noise });
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    await annotated.waitFor(() => annotated.frames.at(-1)?.header.seq === 219, 10_000, 'the newest frame at the reading client');
    expect(annotated.frames.length - before).toBeGreaterThan(20);
    expect(annotated.of('dropped')).toHaveLength(0);
    (plain.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await plain.waitFor(() => plain.of('dropped').some((d) => d.channel === 'frames' && d.count > 0), 10_000, 'a frames dropped notice');
    const plainSeqs = plain.frames.map((f) => f.header.seq);
    expect(plainSeqs.length).toBeLessThan(annotated.frames.length);
    expect([...plainSeqs].sort((x, y) => x - y)).toEqual(plainSeqs);
  });
});
