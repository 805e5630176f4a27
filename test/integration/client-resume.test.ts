import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { connect, GatewayError, type PosestreamClient, type PoseEvent, type StreamResult } from 'posestream/client';
import { repoRoot } from '../../pipeline/assets.js';
import { poseEventCommands } from '../../pipeline/redis/event-stream.js';
import { keys } from '../../pipeline/redis/keys.js';
import { ResultPublisher } from '../../pipeline/redis/result-stream.js';
import { WIRE_VERSION } from '../../pipeline/wire/v1.js';
import { freePort, testRedisUrl } from '../support/env.js';
import { GatewayTestClient } from '../support/gateway-client.js';
import { waitUntil } from '../support/wait.js';

/**
 * posestream/client against a real gateway process and Redis: a producer commits one event and one result per
 * batch the way a worker does (one MULTI), the client follows both with async iteration, and the gateway is killed
 * (SIGKILL: no close handshake) mid-stream and started again while the producer keeps going. The client must
 * reconnect by itself and deliver every seq exactly once, in order: what was published while the gateway was down
 * comes from the resume replay after the client's cursors.
 */

const DB = 58;
const STREAM = 'hall';
const TOKEN = 'client-token-0123';
const TOTAL = 400;

describe('posestream/client resumes across a gateway kill (real gateway process, real Redis)', () => {
  let redis: Redis;
  let gateway: ChildProcess | undefined;
  let gatewayOutput = '';
  let configFile = '';
  let baseUrl = '';
  const clients: PosestreamClient[] = [];

  async function startGateway(): Promise<void> {
    gatewayOutput = '';
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'posestream.cjs'), 'gateway', '--config', configFile], {
      cwd: repoRoot,
      env: { ...process.env, POSESTREAM_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (gatewayOutput += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (gatewayOutput += chunk.toString()));
    gateway = child;
    await waitUntil(async () => ((await fetch(`${baseUrl}/readyz`)).ok ? true : undefined), 30_000, () => `the gateway (output:\n${gatewayOutput})`, 100);
  }

  async function killGateway(): Promise<void> {
    const child = gateway;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** One worker batch for seq: its event, then its result (and the end-of-stream after the last). */
  async function commit(seq: number, end = false): Promise<void> {
    const multi = redis.multi();
    const now = Date.now();
    const event: PoseEvent = {
      v: WIRE_VERSION, kind: 'event', id: `${STREAM}:line_cross:1:${seq}:door`, streamId: STREAM, type: 'line_cross', trackId: 1, seq,
      captureTs: now, atSeq: seq, atCaptureTs: now, confidence: 1, line: 'door', direction: 'left_to_right', attributes: { count: seq + 1 }, snapshot: false, publishedTs: now,
    };
    for (const [command, ...args] of poseEventCommands(event, { retentionMs: 3_600_000, nowMs: now })) multi.call(command, ...args);
    const publisher = new ResultPublisher({ retention: 10_000 });
    publisher.addInto(multi, {
      v: WIRE_VERSION, kind: 'pose', streamId: STREAM, seq, captureTs: now, sourceWidth: 64, sourceHeight: 48, persons: [],
      timings: { decodeMs: 1, queueMs: 1, inferMs: 1, postMs: 1 }, worker: 'test', publishedTs: now,
    });
    if (end) publisher.addInto(multi, { v: WIRE_VERSION, kind: 'eos', streamId: STREAM, lastSeq: seq, reason: 'eof', publishedTs: now });
    await multi.exec();
  }

  beforeAll(async () => {
    redis = new Redis(testRedisUrl(DB));
    await redis.flushdb();
    baseUrl = `http://127.0.0.1:${await freePort()}`;
    configFile = path.join(mkdtempSync(path.join(tmpdir(), 'posestream-client-')), 'posestream.yaml');
    writeFileSync(
      configFile,
      stringify({
        redis: { url: testRedisUrl(DB) },
        model: { path: 'unused.xml' },
        gateway: { host: '127.0.0.1', port: Number(new URL(baseUrl).port), token: TOKEN },
        streams: [{ id: STREAM, url: 'test://ball', enabled: false }],
      }),
    );
    await startGateway();
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await killGateway();
    await redis?.flushdb();
    redis?.disconnect();
  });

  it('delivers every event and result exactly once, in order, across a kill and restart of the gateway', async () => {
    const statuses: string[] = [];
    const client = connect(baseUrl, { token: TOKEN, reconnect: { initialMs: 100, maxMs: 400 }, onStatus: (status, detail) => statuses.push(`${status}: ${detail}`) });
    clients.push(client);
    const events: number[] = [];
    const results: number[] = [];
    let ended = 0;
    const followEvents = (async () => {
      for await (const event of client.events(STREAM, { untilEnd: true })) events.push(event.seq);
    })();
    const followResults = (async () => {
      for await (const result of client.results(STREAM, { untilEnd: true }) as AsyncIterable<StreamResult>) {
        if (result.kind === 'pose') results.push(result.seq);
        else ended += 1;
      }
    })();
    await waitUntil(async () => (statuses.includes('open: connected') ? true : undefined), 10_000, 'the client to connect', 20);
    // The subscriptions are sent right after the open; give the gateway a moment to take them.
    await new Promise((resolve) => setTimeout(resolve, 300));

    let seq = 0;
    const produce = async (until: number) => {
      for (; seq < until; seq++) {
        await commit(seq, seq === TOTAL - 1);
        await new Promise((resolve) => setTimeout(resolve, 4));
      }
    };
    await produce(150);
    await waitUntil(async () => (events.length >= 100 && results.length >= 100 ? true : undefined), 10_000, 'the first live messages', 20);
    await killGateway();
    // Published while no gateway runs: only the resume replay can deliver these.
    await produce(250);
    await startGateway();
    await produce(TOTAL);
    await Promise.race([
      Promise.all([followEvents, followResults]),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`not finished: ${events.length} events, ${results.length} results; statuses ${statuses.join(' | ')}`)), 20_000)),
    ]);

    const expected = Array.from({ length: TOTAL }, (_, i) => i);
    // Followed live from the subscription on, before the first commit: everything, no gap, no repeat.
    expect(events).toEqual(expected);
    expect(results).toEqual(expected);
    expect(ended).toBe(1);
    // It really lost the gateway and came back.
    expect(statuses.filter((s) => s.startsWith('closed: disconnected')).length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((s) => s === 'open: connected').length).toBeGreaterThanOrEqual(2);
  }, 90_000);

  it('the wire protocol: cursors on every message, subscribed.cursors for live, after replays strictly after a cursor', async () => {
    const raw = await GatewayTestClient.connect(`${baseUrl.replace('http', 'ws')}/ws`, { headers: { authorization: `Bearer ${TOKEN}` } });
    try {
      await raw.waitFor(() => raw.of('hello').length === 1);
      // Live: the reply says where live delivery starts (here: after the last retained entries of the first test).
      raw.send({ v: 1, type: 'subscribe', id: 'live', streams: [STREAM], channels: ['events', 'results'] });
      await raw.waitFor(() => raw.of('subscribed').length === 1);
      const newest = async (key: 'events' | 'results') => {
        const [entry] = (await redis.xrevrange(key === 'events' ? keys.poseEvents(STREAM) : keys.results(STREAM), '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
        return entry?.[0];
      };
      expect(raw.of('subscribed')[0]!.cursors).toEqual({ [STREAM]: { events: await newest('events'), results: await newest('results') } });

      // A resume after the cursor of event seq 299 gets events 300..399, each with its cursor, then the end.
      const replay = await GatewayTestClient.connect(`${baseUrl.replace('http', 'ws')}/ws`, { headers: { authorization: `Bearer ${TOKEN}` } });
      try {
        replay.send({ v: 1, type: 'subscribe', id: 'all', streams: [STREAM], channels: ['events'], fromStart: true });
        // A second subscribe of the same stream while the replay runs neither replays again nor gives a live cursor.
        replay.send({ v: 1, type: 'subscribe', id: 'again', streams: [STREAM], channels: ['events'] });
        await replay.waitFor(() => replay.of('result').length === 1, 10_000, 'the full replay');
        await new Promise((resolve) => setTimeout(resolve, 300));
        const all = replay.of('event');
        expect(all.map((m) => m.event.seq)).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
        expect(replay.of('subscribed').find((m) => m.id === 'again')?.cursors).toBeUndefined();
        expect(all.every((m) => typeof m.cursor === 'string')).toBe(true);
        replay.messages.length = 0;
        replay.send({ v: 1, type: 'subscribe', id: 'resume', streams: [STREAM], channels: ['events'], after: { [STREAM]: { events: all[299]!.cursor } } });
        await replay.waitFor(() => replay.of('result').length === 1, 10_000, 'the resumed replay');
        expect(replay.of('event').map((m) => m.event.seq)).toEqual(Array.from({ length: 100 }, (_, i) => 300 + i));
        expect(replay.of('event').map((m) => m.cursor)).toEqual(all.slice(300).map((m) => m.cursor));

        // `after` may only name subscribed streams; a cursor must look like one.
        replay.send({ v: 1, type: 'subscribe', id: 'bad', streams: [STREAM], channels: ['events'], after: { other: { events: '1-0' } } });
        replay.send({ v: 1, type: 'subscribe', id: 'bad2', streams: [STREAM], channels: ['events'], after: { [STREAM]: { events: 'yesterday' } } });
        await replay.waitFor(() => replay.of('error').length === 2);
        expect(replay.of('error')[0]).toMatchObject({ id: 'bad', code: 'PS_WS_INVALID', message: expect.stringMatching(/after: stream\(s\) not in this subscription: other/) });
        expect(replay.of('error')[1]).toMatchObject({ id: 'bad2', code: 'PS_WS_INVALID', message: expect.stringMatching(/cursor/) });
      } finally {
        replay.close();
      }
    } finally {
      raw.close();
    }
  });

  it('replays from the start, fails an unknown stream with the gateway error, and is refused without the token', async () => {
    const client = connect(baseUrl.replace('http', 'ws'), { token: TOKEN });
    clients.push(client);
    const replayed: number[] = [];
    for await (const event of client.events(STREAM, { fromStart: true, untilEnd: true })) replayed.push(event.seq);
    expect(replayed).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
    await expect(client.events('nope')[Symbol.asyncIterator]().next()).rejects.toThrow(GatewayError);
    client.close();

    const errors: Error[] = [];
    const refused = connect(baseUrl, { token: 'wrong', reconnect: { initialMs: 5_000 }, onError: (error) => errors.push(error) });
    clients.push(refused);
    await waitUntil(async () => (errors.length > 0 ? true : undefined), 5_000, 'the refusal');
    expect(errors[0]).toMatchObject({ code: 'PS_AUTH_REQUIRED' });
    refused.close();
  });
});
