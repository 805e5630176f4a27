import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModelPaths, repoRoot } from '../../pipeline/assets.js';
import { keys } from '../../pipeline/redis/keys.js';
import { WIRE_VERSION } from '../../pipeline/wire/v1.js';
import { stopChild } from '../support/child-process.js';
import { freePort, testRedisUrl } from '../support/env.js';
import { GatewayTestClient } from '../support/gateway-client.js';
import { waitUntil } from '../support/wait.js';
import { writeTestConfig } from './pipeline-support.js';

/**
 * Credentials never leave: a real `posestream run` (ingest, worker and gateway in one child process, debug logging)
 * with camera URLs carrying `admin:Pa55word@` that cannot be reached, from the config and from REST. GStreamer's
 * errors, the states, every log line of every role, REST replies (refusals included), WebSocket messages, Redis
 * state and events, and check-config's output are searched for the password.
 */

const DB = 47;
const SECRET = 'Pa55word';
const TOKEN = 'secrets-token-0123';
const BIN = path.join(repoRoot, 'bin', 'posestream.cjs');

/** A port on 127.0.0.1 where nothing listens: connections are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.skipIf(!existsSync(defaultModelPaths.fp32))('credentials in stream URLs never leave posestream', () => {
  let child: ChildProcess;
  let output = '';
  let baseUrl = '';
  let configFile = '';
  let apiUrl = '';
  let httpCameraUrl = '';
  let httpCamera: Server;
  const redis = new Redis(testRedisUrl(DB));

  const get = async (urlPath: string, init: RequestInit = {}) => {
    const response = await fetch(`${baseUrl}${urlPath}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...init.headers } });
    return { status: response.status, text: await response.text() };
  };

  beforeAll(async () => {
    await redis.flushdb();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    apiUrl = `rtsp://admin:${SECRET}@127.0.0.1:${await closedPort()}/api-stream`;
    // An HTTP camera that refuses the credentials: souphttpsrc's error path, as opposed to rtspsrc's.
    httpCamera = createHttpServer((_req, res) => res.writeHead(401, { 'www-authenticate': 'Basic realm="cam"' }).end('no'));
    await new Promise<void>((resolve) => httpCamera.listen(0, '127.0.0.1', resolve));
    httpCameraUrl = `http://admin:${SECRET}@127.0.0.1:${(httpCamera.address() as { port: number }).port}/video.mp4`;
    // The REST camera below is on this machine; the operator allows that address, nothing else.
    configFile = writeTestConfig(DB, [{ id: 'config-cam', url: `rtsp://admin:${SECRET}@127.0.0.1:${await closedPort()}/stream1` }], {
      ingest: { stallTimeoutSec: 3, backoffMaxMs: 1_000 },
      gateway: { port, token: TOKEN },
      sourcePolicy: { allowAddresses: ['127.0.0.1'] },
    }).file;
    child = spawn(process.execPath, [BIN, 'run', '--config', configFile], {
      cwd: repoRoot,
      env: { ...process.env, POSESTREAM_LOG_LEVEL: 'debug', POSESTREAM_LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitUntil(async () => ((await get('/readyz')).status === 200 ? true : undefined), 90_000, () => `the gateway (output:\n${output})`);
  }, 120_000);

  afterAll(async () => {
    await stopChild(child);
    httpCamera?.close();
    await redis.flushdb();
    redis.disconnect();
  }, 30_000);

  it('no state, log line, REST or WebSocket reply, Redis state or event, or check-config output carries the password', async () => {
    const replies: string[] = [];
    const client = await GatewayTestClient.connect(`${baseUrl.replace('http', 'ws')}/ws?token=${TOKEN}`);
    client.send({ v: WIRE_VERSION, type: 'subscribe', id: 's', streams: ['*'], channels: ['state'] });

    const added = await get('/api/streams', { method: 'POST', body: JSON.stringify({ id: 'api-cam', url: apiUrl }) });
    expect(added.status).toBe(201);
    replies.push(added.text);
    const addedHttp = await get('/api/streams', { method: 'POST', body: JSON.stringify({ id: 'api-http', url: httpCameraUrl }) });
    expect(addedHttp.status).toBe(201);
    replies.push(addedHttp.text);
    // Refusals and validation errors quote nothing secret either.
    for (const url of [`rtsp://admin:${SECRET}@169.254.169.254/x`, `rtsp://admin:${SECRET}@no-such-camera.invalid/x`, `rtsp://admin:${SECRET}@[::1/x`]) {
      const refused = await get('/api/streams', { method: 'POST', body: JSON.stringify({ id: 'refused', url }) });
      expect(refused.status, url).toBeGreaterThanOrEqual(400);
      replies.push(refused.text);
    }

    // Both cameras fail in GStreamer (connection refused) and keep retrying: their reasons are GStreamer's text.
    for (const id of ['config-cam', 'api-cam', 'api-http']) {
      await waitUntil(
        async () => {
          const { text } = await get(`/api/streams/${id}`);
          const stream = JSON.parse(text) as { state: { state: string; restarts: number; reason?: string } | null };
          return stream.state?.state === 'error' && stream.state.restarts >= 2 && stream.state.reason ? stream : undefined;
        },
        60_000,
        () => `stream ${id} to fail and retry (output:\n${output.slice(-3000)})`,
      );
      replies.push((await get(`/api/streams/${id}`)).text);
      replies.push((await get(`/streams/${id}/snapshot.jpg`)).text);
    }
    replies.push((await get('/api/streams')).text);
    await client.waitFor(() => client.of('state').some((m) => m.state.streamId === 'api-cam' && m.state.reason !== undefined), 10_000, 'state messages');
    client.close();

    const states = await redis.hgetall(keys.streamState);
    const events = JSON.stringify(await redis.xrange(keys.events, '-', '+'));
    const checkConfig = spawnSync(process.execPath, [BIN, 'check-config', '--json', '--config', configFile], { cwd: repoRoot, encoding: 'utf8' });
    expect(checkConfig.status).toBe(0);

    // Each place was really exercised: the URLs and GStreamer's reasons are there, masked.
    expect(output).toContain(`admin:***@127.0.0.1`);
    expect(Object.values(states).join('\n')).toMatch(/Could not open resource|Could not connect|error/i);
    expect(replies.join('\n')).toContain('admin:***@');
    expect(checkConfig.stdout).toContain('admin:***@');
    const places: Record<string, string> = {
      'logs of posestream run': output,
      'REST replies': replies.join('\n'),
      'WebSocket messages': JSON.stringify(client.messages),
      'stream states in Redis': JSON.stringify(states),
      'registry events in Redis': events,
      'check-config --json': checkConfig.stdout + checkConfig.stderr,
    };
    for (const [place, text] of Object.entries(places)) expect(text.includes(SECRET), place).toBe(false);
  }, 120_000);
});
