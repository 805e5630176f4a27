import { Writable } from 'node:stream';
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
    const { status, json } = await call('GET', '/api/streams');
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
    expect((await call('POST', '/api/streams', { id: 'lobby', url: 'rtsp://10.0.0.10/x' })).status).toBe(409);
    expect(JSON.parse((await redis.hget(keys.streams, 'lobby'))!)).toMatchObject({ origin: 'api' });
    expect(JSON.parse((await redis.hget(keys.streams, 'from-config'))!)).toMatchObject({ origin: 'config' });

    const patched = await call('PATCH', '/api/streams/lobby', { fps: 5, mode: 'lossless' });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ fps: 5, mode: 'lossless', enabled: false });

    // Tracking settings: accepted whole, validated strictly (the field is named), changed by PATCH.
    const tracked = await call('PATCH', '/api/streams/lobby', { tracking: { lostTimeoutSec: 2, smoothing: { enabled: true } } });
    expect(tracked.status).toBe(200);
    expect(tracked.json.tracking).toMatchObject({ enabled: true, lostTimeoutSec: 2, smoothing: { enabled: true } });
    const badTracking = await call('PATCH', '/api/streams/lobby', { tracking: { lostTimeoutSec: -1, poseWeigth: 1 } });
    expect(badTracking.status).toBe(400);
    expect(badTracking.json.error.message).toMatch(/tracking.*lostTimeoutSec/);
    expect(badTracking.json.error.message).toMatch(/poseWeigth/);
    const withTracking = await call('POST', '/api/streams', { id: 'untracked', url: 'rtsp://10.0.0.12/x', enabled: false, tracking: { enabled: false } });
    expect(withTracking.status).toBe(201);
    expect(withTracking.json.tracking).toMatchObject({ enabled: false });
    expect((await call('DELETE', '/api/streams/untracked')).status).toBe(200);

    // Event rules (zones, lines, thresholds): the same, and kept in the registry entry.
    const zones = [{ id: 'bed', polygon: [[0.5, 0.5], [0.9, 0.5], [0.9, 0.9]], suppress: ['fall'] }];
    const withEvents = await call('PATCH', '/api/streams/lobby', { events: { zones, lines: [{ id: 'door', a: [0.1, 0.1], b: [0.1, 0.9] }] } });
    expect(withEvents.status).toBe(200);
    expect(withEvents.json.events).toMatchObject({ zones: [{ id: 'bed', suppress: ['fall'], debounceSec: 0.3 }], lines: [{ id: 'door', band: 0.01 }], fall: { minDownSec: 1 } });
    expect(JSON.parse((await redis.hget(keys.streams, 'lobby'))!).events.zones[0].id).toBe('bed');
    const badEvents = await call('PATCH', '/api/streams/lobby', { events: { zones: [{ ...zones[0], polygon: [[0, 0], [1, 1]] }], lines: [{ id: 'x', a: [0.5, 0.5], b: [0.5, 0.5] }] } });
    expect(badEvents.status).toBe(400);
    expect(badEvents.json.error.fields.map((field: { path: string }) => field.path)).toEqual(expect.arrayContaining(['events.zones[0].polygon', 'events.lines[0].b']));

    const added = await call('POST', '/api/streams', { id: 'temporary', url: 'rtsp://10.0.0.11/x', enabled: false });
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

  it('needs the token for every read but health, readiness and the dashboard shell', async () => {
    for (const path of ['/api/streams', '/api/streams/from-config', '/metrics', '/streams/from-config/snapshot.jpg', '/streams/from-config/mjpeg']) {
      const anonymous = await call('GET', path, undefined, { token: null });
      expect(anonymous.status, path).toBe(401);
      expect(anonymous.json.error.code).toBe('PS_AUTH_REQUIRED');
      expect((await call('GET', path, undefined, { token: 'wrong-token-000' })).status, path).toBe(401);
    }
    for (const path of ['/healthz', '/readyz', '/', '/index.html', '/style.css', '/app.js']) {
      expect((await call('GET', path, undefined, { token: null })).status, path).toBe(200);
    }
    // Browsers cannot set headers on <img> or WebSocket requests: ?token= works too.
    expect((await call('GET', `/streams/nope/snapshot.jpg?token=${TOKEN}`, undefined, { token: null })).status).toBe(404);
    expect((await call('GET', `/api/streams?token=${TOKEN}`, undefined, { token: null })).status).toBe(200);
  });

  it('refuses sources a REST client may not open by default, with 403 and a reason that reveals nothing', async () => {
    const refused: Array<[string, RegExp]> = [
      ['http://127.0.0.1:6379/', /"127\.0\.0\.1" is, or resolves to, a loopback address/],
      ['http://[::1]/', /"::1" is, or resolves to, a loopback address/],
      ['http://localhost./', /"localhost\." is, or resolves to, a loopback address/],
      ['http://2130706433/', /"127\.0\.0\.1" is, or resolves to, a loopback address/],
      ['http://0x7f.1/', /"127\.0\.0\.1" is, or resolves to, a loopback address/],
      ['rtsp://0x7f.1/', /"127\.0\.0\.1" is, or resolves to, a loopback address/],
      ['rtsp://admin:Pa55word@169.254.169.254/', /link-local address \(cloud metadata lives there\)/],
      ['file:///etc/passwd', /^url: local files are off for streams added through the API/],
      ['/etc/passwd', /^url: local files are off/],
      ['/etc/no-such-file-here', /^url: local files are off/],
      ['/etc', /^url: local files are off/],
      ['/dev/video0', /^url: video devices are off/],
      ['test://ball', /^url: test patterns are off/],
    ];
    const fileReplies = new Set<string>();
    for (const [url, reason] of refused) {
      const reply = await call('POST', '/api/streams', { id: 'probe', url });
      expect(reply.status, url).toBe(403);
      expect(reply.json.error.code, url).toBe('PS_SOURCE_FORBIDDEN');
      expect(reply.json.error.message, url).toMatch(reason);
      expect(reply.json.error.fields, url).toEqual([{ path: 'url', message: reply.json.error.message.replace(/^url: /, '') }]);
      expect(JSON.stringify(reply.json), url).not.toMatch(/Pa55word|no such|exist|directory|text file/i);
      if (url.startsWith('/etc') || url.startsWith('file:')) fileReplies.add(JSON.stringify(reply.json));
    }
    // An existing file, a missing one and a directory get the very same answer.
    expect(fileReplies.size).toBe(1);
    const unresolvable = await call('POST', '/api/streams', { id: 'probe', url: 'rtsp://admin:Pa55word@no-such-camera.invalid/x' });
    expect(unresolvable.status).toBe(400);
    expect(unresolvable.json.error).toMatchObject({ code: 'PS_SOURCE_UNRESOLVABLE', message: 'url: the host "no-such-camera.invalid" does not resolve' });
    expect(await redis.hexists(keys.streams, 'probe')).toBe(0);
  });

  it('serves health, readiness, metrics and the dashboard without a CDN', async () => {
    expect((await call('GET', '/healthz')).json).toEqual({ status: 'ok' });
    expect((await call('GET', '/readyz')).json).toMatchObject({ status: 'ready', streams: 2 });
    const metrics = await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.text());
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

describe('gateway binding (real Redis)', () => {
  const base = { redis: { url: testRedisUrl(DB) }, model: { path: 'unused.xml' } };

  it('refuses a non-loopback host without a token, and warns at start when that is allowed on purpose', async () => {
    const open = configSchema.parse({ ...base, gateway: { port: 0, host: '127.0.0.1' } });
    await expect(startGateway(open, { logger, host: '0.0.0.0' })).rejects.toThrow(/^gateway\.host: "0\.0\.0\.0" is not a loopback address and gateway\.token is not set/);

    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString());
        callback();
      },
    });
    const exposed = configSchema.parse({ ...base, gateway: { port: 0, host: '0.0.0.0', allowUnauthenticated: true } });
    const gateway = await startGateway(exposed, { logger: createLogger('gateway-rest-test', { level: 'warn', destination, pretty: false }) });
    try {
      const warning = lines.map((line) => JSON.parse(line) as { level: number; msg: string; setting?: string }).find((line) => line.setting === 'gateway.allowUnauthenticated');
      expect(warning?.level).toBe(40);
      expect(warning?.msg).toMatch(/^gateway listening on 0\.0\.0\.0:\d+ WITHOUT AUTHENTICATION \(gateway\.allowUnauthenticated: true\)/);
      // No token: reads and writes are open, as the operator chose.
      expect((await fetch(`${gateway.url}/api/streams`)).status).toBe(200);
    } finally {
      await gateway.stop();
    }
  });
});
