import { existsSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/main.js';
import { defaultModelPaths } from '../../pipeline/assets.js';
import { keys } from '../../pipeline/redis/keys.js';
import { startIngest } from '../../workers/ingest/main.js';
import { startWorker } from '../../workers/inference/main.js';
import { assetPath, skipWithout } from '../support/assets.js';
import { testRedisUrl } from '../support/env.js';
import { GatewayTestClient } from '../support/gateway-client.js';
import { quietLogger, writeTestConfig } from './pipeline-support.js';

/**
 * A stream added through REST runs through the real pipeline (GStreamer ingest, OpenVINO worker on the FP32 IR) and
 * its results reach a WebSocket subscriber within 5 s; annotated snapshots work; DELETE ends it with an
 * end-of-stream (reason removed) and its frame stream stops growing.
 */

const DB = 44;
const ID = 'walking-rest';

describe.skipIf(skipWithout('walkingVideo') || !existsSync(defaultModelPaths.fp32))('gateway + pipeline: REST-managed stream', () => {
  const redis = new Redis(testRedisUrl(DB));
  const logger = quietLogger();
  // The stream below is a local file added through REST: the operator allows the shared media directory.
  const { config } = writeTestConfig(DB, [], { sourcePolicy: { allowFilesUnder: [path.dirname(assetPath('walkingVideo'))] } });
  const stops: Array<() => Promise<void>> = [];
  let url = '';
  let client: GatewayTestClient;

  beforeAll(async () => {
    await redis.flushdb();
    const gateway = await startGateway(config, { logger });
    url = gateway.url;
    stops.push(() => gateway.stop());
    const worker = await startWorker(config, { logger });
    stops.push(() => worker.stop());
    const ingest = await startIngest(config, { logger });
    stops.push(() => ingest.stop());
    client = await GatewayTestClient.connect(`${url.replace('http', 'ws')}/ws`);
    client.send({ v: 1, type: 'subscribe', streams: ['*'], channels: ['results', 'state'] });
    await client.waitFor(() => client.of('subscribed').length === 1);
  }, 120_000);

  afterAll(async () => {
    client?.close();
    for (const stop of stops.reverse()) await stop();
    await redis.flushdb();
    redis.disconnect();
  });

  const poses = () => client.of('result').flatMap((m) => (m.result.streamId === ID && m.result.kind === 'pose' ? [m.result] : []));

  it('delivers results of a stream added through REST within 5 s', async () => {
    const started = Date.now();
    const response = await fetch(`${url}/api/streams`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: ID, url: assetPath('walkingVideo'), loop: true, fps: 15 }),
    });
    expect(response.status).toBe(201);
    await client.waitFor(() => poses().length > 0, 5_000, 'the first result of the REST-added stream');
    const firstAfterMs = Date.now() - started;
    console.log(`first result ${firstAfterMs} ms after POST /api/streams`);
    expect(firstAfterMs).toBeLessThan(5_000);
    await client.waitFor(() => poses().some((p) => p.persons.length > 0), 5_000, 'a result with a person');
    expect(client.of('state').some((m) => m.state.streamId === ID && m.state.state === 'running')).toBe(true);
  });

  it('serves an annotated snapshot and reports the stream in /api/streams and /metrics', async () => {
    const snapshot = await fetch(`${url}/streams/${ID}/snapshot.jpg`);
    expect(snapshot.status).toBe(200);
    expect(snapshot.headers.get('content-type')).toBe('image/jpeg');
    const jpeg = Buffer.from(await snapshot.arrayBuffer());
    expect([...jpeg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);

    const mjpeg = await fetch(`${url}/streams/${ID}/mjpeg`);
    expect(mjpeg.headers.get('content-type')).toMatch(/^multipart\/x-mixed-replace; boundary=/);
    const reader = mjpeg.body!.getReader();
    let received = Buffer.alloc(0);
    while (received.indexOf(Buffer.from([0xff, 0xd9])) < 0) {
      const { value, done } = await reader.read();
      if (done) break;
      received = Buffer.concat([received, Buffer.from(value)]);
    }
    await reader.cancel();
    expect(received.toString('latin1')).toMatch(/^--posestreamframe\r\ncontent-type: image\/jpeg\r\ncontent-length: \d+\r\n\r\n\xff\xd8\xff/);

    const { streams } = (await fetch(`${url}/api/streams`).then((r) => r.json())) as { streams: Array<{ id: string; state: { state: string }; stats: { fps: number; latencyMs: number } }> };
    const stream = streams.find((s) => s.id === ID)!;
    expect(stream.state.state).toBe('running');
    expect(stream.stats.fps).toBeGreaterThan(0);
    expect(stream.stats.latencyMs).toBeGreaterThan(0);
    const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(new RegExp(`posestream_results_total\\{stream_id="${ID}"\\} [1-9]`));
    expect(metrics).toMatch(new RegExp(`posestream_stage_duration_seconds_count\\{stream_id="${ID}",stage="total"\\} [1-9]`));
    // Queue depth (XLEN) and utilisation (the worker's heartbeat hash) are sampled every 5 s.
    const sampled = async () => {
      const text = await fetch(`${url}/metrics`).then((r) => r.text());
      return new RegExp(`^posestream_queue_depth\\{stream_id="${ID}"\\} \\d+$`, 'm').test(text) && /^posestream_worker_utilisation_ratio\{worker="[^"]+"\} [\d.]+$/m.test(text);
    };
    await expect.poll(sampled, { timeout: 7_000, interval: 500 }).toBe(true);
  });

  it('DELETE ends the stream with an end-of-stream and stops its pipeline', async () => {
    const response = await fetch(`${url}/api/streams/${ID}`, { method: 'DELETE' });
    expect(response.status).toBe(200);
    await client.waitFor(
      () => client.of('result').some((m) => m.result.streamId === ID && m.result.kind === 'eos'),
      10_000,
      'the end-of-stream of the removed stream',
    );
    const eos = client.of('result').find((m) => m.result.streamId === ID && m.result.kind === 'eos')!.result;
    expect(eos).toMatchObject({ kind: 'eos', reason: 'removed' });
    const count = poses().length;
    const frameTail = async () => {
      const info = (await redis.xinfo('STREAM', keys.frames(ID)).catch(() => [])) as unknown[];
      return info[info.indexOf('last-generated-id') + 1];
    };
    const tailBefore = await frameTail();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(poses().length).toBe(count);
    expect(await frameTail()).toEqual(tailBefore);
    expect((await fetch(`${url}/api/streams/${ID}`)).status).toBe(404);
  });
});
