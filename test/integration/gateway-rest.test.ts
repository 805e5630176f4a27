import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import { startGateway, type RunningGateway } from '../../gateway/main.js';
import { createLogger } from '../../pipeline/obs/logger.js';
import { keys } from '../../pipeline/redis/keys.js';
import { testRedisUrl } from '../support/env.js';

/** REST for streams, health and metrics against a real Redis; persistence is checked across a gateway restart. */

const DB = 43;
const TOKEN = 'rest-token-0123';
const logger = createLogger('gateway-rest-test', 'warn');
const config = configSchema.parse({
  redis: { url: testRedisUrl(DB) },
  model: { path: 'unused.xml' },
  gateway: { port: 0, host: '127.0.0.1', token: TOKEN },
  streams: [{ id: 'from-config', url: 'test://ball', enabled: false }],
});

describe('gateway REST (real Redis)', () => {
  let redis: Redis;
  let gateway: RunningGateway;

  const call = async (method: string, path: string, body?: unknown, options: { token?: string | null; type?: string } = {}) => {
    const headers: Record<string, string> = {};
    const token = options.token === undefined ? TOKEN : options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = options.type ?? 'application/json';
    const response = await fetch(`${gateway.url}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await response.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: response.status, json };
  };

  beforeAll(async () => {
    redis = new Redis(testRedisUrl(DB));
    await redis.flushdb();
    gateway = await startGateway(config, { logger });
  });

  afterAll(async () => {
    await gateway?.stop();
    await redis?.flushdb();
    redis?.disconnect();
  });

  it('lists the streams seeded from the config with state and stats', async () => {
    const { status, json } = await call('GET', '/api/streams', undefined, { token: null });
    expect(status).toBe(200);
    expect(json.streams).toHaveLength(1);
    expect(json.streams[0]).toMatchObject({ id: 'from-config', url: 'test://ball', enabled: false, mode: 'live' });
    expect(json.streams[0].stats).toMatchObject({ fps: 0, drops: 0, lastResultAgeMs: null });
    expect(json.unreadable).toEqual([]);
  });

  it('rejects bad bodies with 400 naming each field, and other bad requests with the right status', async () => {
    const invalid = await call('POST', '/api/streams', { id: 'has space', url: 'ftp://cam', fps: 0, colour: 'red' });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.code).toBe('PS_STREAM_INVALID');
    const paths = invalid.json.error.fields.map((f: { path: string }) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['id', 'url', 'fps']));
    expect(JSON.stringify(invalid.json.error.fields)).toMatch(/colour/);
    expect(invalid.json.error.fields.find((f: { path: string }) => f.path === 'url').message).toMatch(/unsupported scheme "ftp:"/);

    expect((await call('POST', '/api/streams', '{"id": "x",', {})).json.error.code).toBe('PS_HTTP_BAD_JSON');
    expect((await call('POST', '/api/streams', 'id=x', { type: 'application/x-www-form-urlencoded' })).status).toBe(415);
    const big = await call('POST', '/api/streams', { id: 'big', url: `test://ball`, pad: 'x'.repeat(100_000) });
    expect(big.status).toBe(413);
    expect((await call('POST', '/api/streams', { id: 'n', url: 'test://ball' }, { token: null })).status).toBe(401);
    expect((await call('POST', '/api/streams', { id: 'n', url: 'test://ball' }, { token: 'wrong-token-000' })).status).toBe(401);
    expect((await call('DELETE', '/api/streams/nope')).status).toBe(404);
    expect((await call('PATCH', '/api/streams/nope', { enabled: true })).status).toBe(404);
    const emptyPatch = await call('PATCH', '/api/streams/from-config', {});
    expect(emptyPatch.status).toBe(400);
    expect(emptyPatch.json.error.message).toMatch(/nothing to change/);
    expect((await call('PATCH', '/api/streams/from-config', { url: 'test://snow' })).status).toBe(400);
    expect((await call('PUT', '/api/streams')).status).toBe(405);
    expect((await call('GET', '/nothing-here')).status).toBe(404);
    expect((await call('GET', '/streams/nope/snapshot.jpg')).status).toBe(404);
    for (const path of ['/streams/%ZZ/snapshot.jpg', '/api/streams/%E0%A4%A', '/streams/%/mjpeg']) {
      const bad = await call('GET', path);
      expect(bad.status, path).toBe(400);
      expect(bad.json.error.code).toBe('PS_HTTP_BAD_PATH');
    }
  });

  it('adds, conflicts, patches and deletes streams in the registry', async () => {
    const created = await call('POST', '/api/streams', { id: 'lobby', url: 'rtsp://user:secret@10.0.0.9/stream', enabled: false });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ id: 'lobby', enabled: false, mode: 'live', loop: false });
    expect(created.json.url).not.toMatch(/secret/);
    expect(await redis.hexists(keys.streams, 'lobby')).toBe(1);
    expect((await call('POST', '/api/streams', { id: 'lobby', url: 'test://ball' })).status).toBe(409);

    const patched = await call('PATCH', '/api/streams/lobby', { fps: 5, mode: 'lossless' });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ fps: 5, mode: 'lossless', enabled: false });

    const added = await call('POST', '/api/streams', { id: 'temporary', url: 'test://snow', enabled: false });
    expect(added.status).toBe(201);
    expect((await call('DELETE', '/api/streams/temporary')).status).toBe(200);
    expect((await call('GET', '/api/streams/temporary')).status).toBe(404);
  });

  it('keeps REST-added streams across a gateway restart, and the config still wins for its own ids', async () => {
    await call('PATCH', '/api/streams/from-config', { fps: 7 });
    await gateway.stop();
    gateway = await startGateway(config, { logger });
    const { json } = await call('GET', '/api/streams');
    const byId = Object.fromEntries(json.streams.map((s: { id: string }) => [s.id, s]));
    expect(Object.keys(byId).sort()).toEqual(['from-config', 'lobby']);
    expect(byId.lobby).toMatchObject({ fps: 5, mode: 'lossless' });
    expect(byId['from-config'].fps).toBeUndefined();
  });

  it('serves health, readiness, metrics and the dashboard without a CDN', async () => {
    expect((await call('GET', '/healthz')).json).toEqual({ status: 'ok' });
    expect((await call('GET', '/readyz')).json).toMatchObject({ status: 'ready', streams: 2 });
    const metrics = await fetch(`${gateway.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^posestream_ws_clients 0$/m);
    expect(metrics).toMatch(/posestream_queue_depth\{stream_id="lobby"\} 0/);
    const html = await fetch(`${gateway.url}/`).then((r) => r.text());
    expect(html).toMatch(/<meta charset="utf-8"/);
    expect(html).not.toMatch(/https?:\/\//);
    const app = await fetch(`${gateway.url}/app.js`);
    expect(app.headers.get('content-type')).toMatch(/javascript/);
    expect(await app.text()).toMatch(/posestreamDashboard/);
  });
});
