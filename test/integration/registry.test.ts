import pino from 'pino';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import { createRedis } from '../../pipeline/redis/client.js';
import { keys, LEGACY_KEYS } from '../../pipeline/redis/keys.js';
import type { StreamPatch } from '../../pipeline/streams/definition.js';
import { StreamRegistry } from '../../pipeline/streams/registry.js';
import type { RegistryEvent } from '../../pipeline/wire/v1.js';
import { testRedisUrl } from '../support/env.js';

const redis = createRedis(testRedisUrl(11), { name: 'test', logger: pino({ level: 'silent' }) });
const warnings: Array<{ streamId?: string; problem?: string }> = [];
const registry = new StreamRegistry(redis, {
  logger: pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line) as { streamId?: string }) }),
});
/** REST hands update() what the client sent; the registry parses it (defaults filled in there). */
const asPatch = (patch: unknown) => patch as StreamPatch;
const configStreams = (streams: unknown[]) => configSchema.parse({ model: { path: 'm' }, streams }).streams;

async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return `${(error as { code?: string }).code}: ${(error as Error).message}`;
  }
  return 'no error';
}

beforeEach(async () => {
  await redis.flushdb();
});
afterAll(async () => {
  await registry.close();
  await redis.flushdb();
  redis.disconnect();
});

describe('StreamRegistry', () => {
  it('adds validated streams with defaults, lists, gets, updates and removes them', async () => {
    expect(await registry.add({ id: 'b', url: 'test://ball' })).toEqual({ id: 'b', url: 'test://ball', loop: false, enabled: true, mode: 'live' });
    await registry.add({ id: 'a', url: '/media/a.mp4', mode: 'lossless' });
    expect((await registry.list()).map((stream) => stream.id)).toEqual(['a', 'b']);
    expect(await registry.get('missing')).toBeUndefined();
    expect(await registry.update('a', { enabled: false, fps: 5 })).toMatchObject({ id: 'a', enabled: false, fps: 5, mode: 'lossless' });
    expect((await registry.get('a'))?.fps).toBe(5);
    expect(await registry.remove('a')).toBe(true);
    expect(await registry.remove('a')).toBe(false);
    expect((await registry.list()).map((stream) => stream.id)).toEqual(['b']);
  });

  it('rejects duplicates, invalid streams and bad patches with codes naming the field', async () => {
    await registry.add({ id: 'a', url: 'test://ball' });
    expect(await codeOf(registry.add({ id: 'a', url: 'test://snow' }))).toBe('PS_STREAM_EXISTS: stream "a" already exists');
    expect(await codeOf(registry.add({ id: 'x', url: 'test://nope' }))).toMatch(/^PS_STREAM_INVALID: invalid stream: url: unknown test pattern "nope"/);
    expect(await codeOf(registry.update('a', { fps: -1 }))).toMatch(/^PS_STREAM_INVALID: .*fps: /);
    expect(await codeOf(registry.update('zz', { enabled: false }))).toBe('PS_STREAM_NOT_FOUND: stream "zz" does not exist');
    expect(await codeOf(registry.update('a', { url: 'test://snow' } as never))).toMatch(/PS_STREAM_INVALID: .*url: cannot be changed/);
    expect((await registry.get('a'))?.url).toBe('test://ball');
  });

  it('seed: the config wins for the ids it names, REST-added streams survive, unchanged seeds emit nothing', async () => {
    await registry.add({ id: 'rest', url: 'test://snow' });
    await registry.add({ id: 'cam', url: 'test://ball', fps: 3 });
    const events: RegistryEvent[] = [];
    const unwatch = registry.watch((event) => events.push(event));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await registry.seed(configStreams([{ id: 'cam', url: 'test://ball' }, { id: 'file', url: '/m/a.mp4', loop: true }]));
    expect((await registry.list()).map((stream) => [stream.id, stream.fps])).toEqual([['cam', undefined], ['file', undefined], ['rest', undefined]]);
    await waitFor(() => events.filter((event) => event.kind === 'stream-changed').length === 2);
    await registry.seed(configStreams([{ id: 'cam', url: 'test://ball' }, { id: 'file', url: '/m/a.mp4', loop: true }]));
    await new Promise((resolve) => setTimeout(resolve, 200));
    unwatch();
    const changes = events.filter((event) => event.kind === 'stream-changed').map((event) => event.kind === 'stream-changed' && `${event.streamId}:${event.change}`);
    expect(changes).toEqual(['cam:updated', 'file:added']);
  });

  it('reports states, emits them as events, and ignores reports for removed streams', async () => {
    await registry.add({ id: 'cam', url: 'test://ball' });
    expect((await registry.states()).get('cam')).toMatchObject({ state: 'pending', restarts: 0 });
    const events: RegistryEvent[] = [];
    const unwatch = registry.watch((event) => events.push(event));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const running = { v: 1, kind: 'state', streamId: 'cam', state: 'running', since: Date.now(), restarts: 2, owner: 'ingest-1', sourceWidth: 1280, sourceHeight: 720 } as const;
    await registry.reportState(running);
    expect((await registry.states()).get('cam')).toEqual(running);
    await waitFor(() => events.some((event) => event.kind === 'state' && event.state === 'running'));
    await registry.remove('cam');
    await registry.reportState({ ...running, state: 'stopped', reason: 'removed' });
    expect((await registry.states()).has('cam')).toBe(false);
    await waitFor(() => events.some((event) => event.kind === 'state' && event.state === 'stopped'));
    expect(events.some((event) => event.kind === 'stream-changed' && event.change === 'removed')).toBe(true);
    unwatch();
  });

  it('a change of rules only keeps the running state; a change of the source starts it again at pending', async () => {
    await registry.add({ id: 'cam', url: 'test://ball' });
    const running = { v: 1, kind: 'state', streamId: 'cam', state: 'running', since: Date.now(), restarts: 0, owner: 'ingest-1' } as const;
    await registry.reportState(running);
    await registry.update('cam', asPatch({ tracking: { enabled: false } }));
    await registry.update('cam', asPatch({ events: { lines: [{ id: 'door', a: [0.5, 0], b: [0.5, 1] }] } }));
    expect((await registry.states()).get('cam')).toMatchObject({ state: 'running' });
    await registry.update('cam', { fps: 3 });
    expect((await registry.states()).get('cam')).toMatchObject({ state: 'pending' });
  });

  it('keeps fields of newer versions through updates and seeds, and reports entries it cannot read', async () => {
    const newer = { id: 'cam', url: 'test://ball', loop: false, enabled: true, mode: 'live', zones: [{ name: 'door', polygon: [[0, 0], [1, 1]] }] };
    await redis.hset(keys.streams, 'cam', JSON.stringify(newer));
    await redis.hset(keys.streams, 'future', JSON.stringify({ id: 'future', url: 'test://ball', mode: 'adaptive' }));
    await redis.hset(keys.streams, 'garbage', '{not json');
    warnings.length = 0;
    expect(await registry.snapshot()).toEqual({
      streams: [{ id: 'cam', url: 'test://ball', loop: false, enabled: true, mode: 'live' }],
      unreadable: [
        { id: 'future', problem: expect.stringMatching(/^mode: /) },
        { id: 'garbage', problem: expect.stringMatching(/^\(stream\): /) },
      ],
    });
    await registry.list();
    expect(warnings.map((w) => w.streamId).sort()).toEqual(['future', 'garbage']);

    await registry.update('cam', { fps: 5 });
    expect(JSON.parse((await redis.hget(keys.streams, 'cam'))!)).toEqual({ ...newer, fps: 5 });
    await registry.seed(configStreams([{ id: 'cam', url: 'test://snow' }]));
    expect(JSON.parse((await redis.hget(keys.streams, 'cam'))!)).toEqual({ ...newer, url: 'test://snow', origin: 'config' });
    expect(await codeOf(registry.update('future', { fps: 5 }))).toMatch(/^PS_STREAM_INVALID: stream "future" is stored in a form this version cannot read \(mode: /);
    expect(await redis.hexists(keys.streams, 'future')).toBe(1);
    expect(await registry.remove('garbage')).toBe(true);
  });

  it('records where a stream came from: REST adds are "api", config seeds are "config", updates keep it', async () => {
    await registry.add({ id: 'rest', url: 'rtsp://10.0.0.9/x' });
    await registry.seed(configStreams([{ id: 'cfg', url: '/media/a.mp4' }]));
    await registry.update('rest', { fps: 5 });
    expect(await registry.entry('rest')).toMatchObject({ origin: 'api', stream: { fps: 5 } });
    expect(await registry.entry('cfg')).toMatchObject({ origin: 'config', stream: { url: '/media/a.mp4' } });
    // An entry from before origins were recorded counts as an API one until the config names it; that adds the
    // origin without a change event (readers have nothing to redo).
    await redis.hset(keys.streams, 'old', JSON.stringify({ id: 'old', url: '/media/b.mp4', loop: false, enabled: true, mode: 'live' }));
    expect((await registry.entry('old'))?.origin).toBe('api');
    const events: RegistryEvent[] = [];
    const unwatch = registry.watch((event) => events.push(event));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await registry.seed(configStreams([{ id: 'old', url: '/media/b.mp4' }]));
    await new Promise((resolve) => setTimeout(resolve, 200));
    unwatch();
    expect((await registry.entry('old'))?.origin).toBe('config');
    expect(events).toEqual([]);
  });

  it('redacts URL passwords from state reasons where states are written', async () => {
    await registry.add({ id: 'cam', url: 'rtsp://admin:Pa55word@10.0.0.9/x' });
    await registry.reportState({ v: 1, kind: 'state', streamId: 'cam', state: 'error', since: 1, restarts: 1, reason: 'Could not open rtsp://admin:Pa55word@10.0.0.9/x (src)' });
    expect((await registry.states()).get('cam')?.reason).toBe('Could not open rtsp://admin:***@10.0.0.9/x (src)');
    expect(JSON.stringify(await redis.xrange(keys.events, '-', '+'))).not.toContain('Pa55word');
  });

  it('moves the single-instance registry to the hash-tagged layout once, keeping what the new layout already has', async () => {
    const ended = { v: 1, kind: 'state', streamId: 'clip', state: 'ended', since: 5, restarts: 0 };
    await redis.hset(LEGACY_KEYS.streams, 'clip', JSON.stringify({ id: 'clip', url: '/m/a.mp4', loop: false, enabled: true, mode: 'lossless' }));
    await redis.hset(LEGACY_KEYS.streams, 'cam', JSON.stringify({ id: 'cam', url: 'test://snow', loop: false, enabled: true, mode: 'live' }));
    await redis.hset(LEGACY_KEYS.streamState, 'clip', JSON.stringify(ended));
    await registry.add({ id: 'cam', url: 'test://ball' });
    warnings.length = 0;
    expect(await registry.migrateLegacyLayout()).toBe(2);
    expect((await registry.list()).map((s) => [s.id, s.url])).toEqual([['cam', 'test://ball'], ['clip', '/m/a.mp4']]);
    expect((await registry.states()).get('clip')).toEqual(ended);
    expect(await redis.exists(LEGACY_KEYS.streams, LEGACY_KEYS.streamState)).toBe(0);
    expect(await registry.migrateLegacyLayout()).toBe(0);
  });

  it('bounds the events stream', async () => {
    for (let i = 0; i < 1_300; i += 1) await registry.reportState({ v: 1, kind: 'state', streamId: 'x', state: 'running', since: i, restarts: 0 });
    expect(await redis.xlen(keys.events)).toBeLessThan(1_300);
  });
});
