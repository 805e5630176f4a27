/**
 * Redis refusing writes for memory (OOM, `maxmemory` with noeviction) while ingest runs, on a private redis-server:
 * no decoder is restarted; the live stream's frames are dropped and counted (reason redis_oom); the lossless file
 * waits and, once Redis accepts writes again, goes on with the very next frame (seqs contiguous to the end). Script
 * errors name the script's file, never its hash.
 */
import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../pipeline/obs/metrics.js';
import { createRedis } from '../../pipeline/redis/client.js';
import { FrameConsumer } from '../../pipeline/redis/frame-stream.js';
import { keys } from '../../pipeline/redis/keys.js';
import { runScript } from '../../pipeline/redis/lua-scripts.js';
import { startIngest } from '../../workers/ingest/main.js';
import { assetPath, skipWithout } from '../support/assets.js';
import { decoderChildren } from '../support/media.js';
import { privateRedis, type PrivateRedis } from '../support/private-redis.js';
import { writeTestConfig } from './pipeline-support.js';

const FRAMES = 144;
const OOM_MS = 3_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(skipWithout('walkingVideo') || !existsSync('/usr/bin/redis-server') && !existsSync('/usr/local/bin/redis-server'))('ingest while Redis is out of memory', () => {
  let server: PrivateRedis | undefined;
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    try {
      for (const cleanup of cleanups.reverse()) await Promise.resolve().then(cleanup).catch(() => undefined);
    } finally {
      await server?.kill();
    }
  });

  it('keeps its decoders, drops and counts live frames, holds the lossless source until Redis accepts again', { timeout: 120_000 }, async () => {
    server = await privateRedis(['--maxmemory-policy', 'noeviction']);
    await server.start();
    const admin = server.client();
    cleanups.push(() => admin.disconnect());
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }));
    const metrics = createMetrics();
    const { config } = writeTestConfig(0, [
      { id: 'ball', url: 'test://ball', fps: 15 },
      // Paced at 30 fps: still mid-file when the spell starts.
      { id: 'walk', url: assetPath('walkingVideo'), mode: 'lossless', fps: 30 },
    ], { redis: { url: server.url }, ingest: { losslessQueueLength: 4 } });
    const ingest = await startIngest(config, { logger, metrics });
    cleanups.push(() => ingest.stop());

    // A reader standing in for the workers: takes every frame at once, acks and deletes it.
    const reader = createRedis(server.url, { name: 'test-reader', logger: pino({ level: 'silent' }) });
    cleanups.push(() => reader.disconnect());
    const consumer = new FrameConsumer(reader, { consumer: 'test', claimIdleMs: 60_000 });
    const seqs = new Map<string, number[]>([['ball', []], ['walk', []]]);
    let walkEnded = false;
    let reading = true;
    const readLoop = (async () => {
      while (reading) {
        const deliveries = await consumer.read(['ball', 'walk'], { count: 16, blockMs: 100 }).catch(() => []);
        if (deliveries.length === 0) continue;
        const multi = reader.multi();
        for (const delivery of deliveries) {
          consumer.ackInto(multi, delivery);
          if (delivery.entry.kind === 'frame') seqs.get(delivery.streamId)!.push(delivery.entry.meta.seq);
          else if (delivery.streamId === 'walk') walkEnded = true;
        }
        // Under OOM even acks are refused (in a MULTI): retry until Redis takes them, as a worker's commit would.
        while (!(await multi.exec().then(() => true, () => false))) await sleep(100);
      }
    })();
    cleanups.push(async () => {
      reading = false;
      await readLoop;
    });

    const deadline = Date.now() + 60_000;
    while (seqs.get('walk')!.length < 20 || seqs.get('ball')!.length < 5) {
      if (Date.now() > deadline) throw new Error(`streams did not start: ${lines.slice(-5).join('')}`);
      await sleep(100);
    }
    const decodersBefore = decoderChildren(process.pid).sort();
    expect(decodersBefore).toHaveLength(2);

    // Out of memory: every write that could grow memory is refused from now on.
    await admin.config('SET', 'maxmemory', '1');
    await sleep(500);
    const walkAtSpell = seqs.get('walk')!.length;
    // What an operator sees of a failing script: its file name, not its SHA1.
    const direct = await runScript(reader, 'publish-frame', [keys.frames('x'), keys.ingestRecord('x')], [1, 0, '', 0, 'workers', 'm', '{}']).catch((error: Error) => error);
    expect(String((direct as Error).message)).toMatch(/OOM/);
    expect(String((direct as Error).message)).toMatch(/publish-frame-2\.lua/);
    expect(String((direct as Error).message)).not.toMatch(/[0-9a-f]{40}/);
    await sleep(OOM_MS);
    // Lossless waited: nothing past what Redis had accepted before the spell came through.
    expect(seqs.get('walk')!.length - walkAtSpell).toBeLessThanOrEqual(1);
    const oomDrops = (await metrics.framesDropped.get()).values.find((v) => v.labels.stream_id === 'ball' && v.labels.reason === 'redis_oom')?.value ?? 0;
    expect(oomDrops).toBeGreaterThan(10);
    expect(lines.filter((line) => line.includes('redis refuses writes (out of memory)')).length).toBe(2);

    await admin.config('SET', 'maxmemory', '0');
    const endBy = Date.now() + 60_000;
    while (!walkEnded) {
      if (Date.now() > endBy) throw new Error(`the lossless file did not end: ${seqs.get('walk')!.length} frames; ${lines.slice(-5).join('')}`);
      await sleep(100);
    }
    expect(seqs.get('walk')).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
    const ballBefore = seqs.get('ball')!.length;
    await sleep(1_000);
    expect(seqs.get('ball')!.length).toBeGreaterThan(ballBefore);
    // Nothing was torn down: no restarts, the ball's decoder is the one from before the spell.
    const restarts = (await metrics.streamRestarts.get()).values.reduce((sum, v) => sum + v.value, 0);
    expect(restarts).toBe(0);
    expect(decodersBefore).toEqual(expect.arrayContaining(decoderChildren(process.pid)));
    expect(lines.filter((line) => /[0-9a-f]{40}/.test(line))).toEqual([]);
  });
});
