import { describe, expect, it } from 'vitest';
import { isPosestreamError } from '../../../../pipeline/errors.js';
import { effectiveOrigin, parseStream, parseStreamPatch, readStoredStream, sourceSettings, storedStreamValue, streamPatchSchema } from '../../../../pipeline/streams/definition.js';

function errorOf(fn: () => unknown) {
  try {
    fn();
  } catch (error) {
    if (isPosestreamError(error)) return error;
  }
  throw new Error('expected a PosestreamError');
}

describe('parseStream', () => {
  it('applies the config defaults', () => {
    expect(parseStream({ id: 'cam-1', url: 'rtsp://cam/x' })).toEqual({ id: 'cam-1', url: 'rtsp://cam/x', loop: false, enabled: true, mode: 'live' });
  });

  it('names every bad field in one PS_STREAM_INVALID message', () => {
    const error = errorOf(() => parseStream({ id: 'bad id!', url: 'ftp://x/y', fps: 0 }));
    expect(error.code).toBe('PS_STREAM_INVALID');
    expect(error.message).toMatch(/^invalid stream: /);
    expect(error.message).toContain('id: must be 1-64 characters');
    expect(error.message).toContain('url: unsupported scheme "ftp:"');
    expect(error.message).toMatch(/fps: .*>0|fps: .*greater than 0/i);
  });

  it('rejects unknown keys and names them', () => {
    expect(errorOf(() => parseStream({ id: 'a', url: '/a.mp4', fsp: 5 })).message).toMatch(/fsp/);
  });
});

describe('stream patches', () => {
  it('take only patchable fields, without filling in defaults', () => {
    expect(parseStreamPatch({ fps: 5 })).toEqual({ fps: 5 });
    expect(errorOf(() => parseStreamPatch({ url: 'test://snow', fps: 5 })).message).toBe('invalid stream patch: url: cannot be changed (only enabled, fps, mode, loop, tracking, events)');
    expect(errorOf(() => parseStreamPatch({ mode: 'fast' })).message).toMatch(/^invalid stream patch: mode: /);
  });

  it('the REST schema says what can be changed when nothing is given', () => {
    const parsed = streamPatchSchema.safeParse({});
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe('nothing to change: give enabled, fps, mode, loop, tracking or events');
  });
});

describe('readStoredStream (registry entries, read leniently)', () => {
  it('keeps fields it does not know apart and writes them back unchanged', () => {
    const stored = { id: 'cam', url: 'test://ball', mode: 'live', loop: false, enabled: true, zones: [{ name: 'door' }], notify: { maxAge: 30 } };
    const read = readStoredStream(stored);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.stored.stream).toEqual({ id: 'cam', url: 'test://ball', mode: 'live', loop: false, enabled: true });
    expect(read.stored.extra).toEqual({ zones: [{ name: 'door' }], notify: { maxAge: 30 } });
    expect(storedStreamValue({ ...read.stored, stream: { ...read.stored.stream, fps: 5 } })).toEqual({ ...stored, fps: 5 });
  });

  it('reads tracking settings leniently too: a setting it does not know is kept, not an error', () => {
    const stored = { id: 'cam', url: 'test://ball', mode: 'live', loop: false, enabled: true, tracking: { enabled: true, lostTimeoutSec: 2, futureSetting: 'x' } };
    const read = readStoredStream(stored);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.stored.stream.tracking).toMatchObject({ enabled: true, lostTimeoutSec: 2, futureSetting: 'x' });
    expect(readStoredStream({ ...stored, tracking: { lostTimeoutSec: -1 } }).ok).toBe(false);
  });

  it('reads the origin apart from the stream; an entry without a known origin counts as an API one', () => {
    const read = readStoredStream({ id: 'cam', url: '/etc/passwd', origin: 'config' });
    expect(read.ok && read.stored).toMatchObject({ stream: { id: 'cam', url: '/etc/passwd' }, origin: 'config', extra: {} });
    if (read.ok) expect(storedStreamValue(read.stored)).toMatchObject({ origin: 'config' });
    const old = readStoredStream({ id: 'cam', url: '/etc/passwd' });
    expect(old.ok && effectiveOrigin(old.stored)).toBe('api');
    const newer = readStoredStream({ id: 'cam', url: 'test://ball', origin: 'operator-console' });
    expect(newer.ok && [effectiveOrigin(newer.stored), newer.stored.extra]).toEqual(['api', { origin: 'operator-console' }]);
    expect(() => parseStream({ id: 'cam', url: '/etc/passwd', origin: 'config' })).toThrow(/origin/);
  });

  it('reports a known field it cannot accept (a newer mode, a bad url) or a value that is no object', () => {
    expect(readStoredStream({ id: 'cam', url: 'test://ball', mode: 'adaptive' })).toEqual({ ok: false, problem: expect.stringMatching(/^mode: /) });
    expect(readStoredStream('not json')).toEqual({ ok: false, problem: expect.stringMatching(/^\(stream\): /) });
  });
});

describe('stream tracking settings', () => {
  it('are optional (tracked with the defaults), strict, and patchable', () => {
    expect(parseStream({ id: 'cam', url: 'test://ball' }).tracking).toBeUndefined();
    expect(parseStream({ id: 'cam', url: 'test://ball', tracking: { enabled: false } }).tracking).toMatchObject({ enabled: false, lostTimeoutSec: 1 });
    expect(errorOf(() => parseStream({ id: 'cam', url: 'test://ball', tracking: { lostTimout: 2 } })).message).toMatch(/tracking.*lostTimout/);
    expect(errorOf(() => parseStream({ id: 'cam', url: 'test://ball', tracking: { highScore: 0.9 } })).message).toMatch(/tracking\.newTrackScore/);
    expect(parseStreamPatch({ tracking: { lostTimeoutSec: 3 } }).tracking).toMatchObject({ enabled: true, lostTimeoutSec: 3 });
    expect(sourceSettings(parseStream({ id: 'cam', url: 'test://ball', tracking: { enabled: false } }))).not.toHaveProperty('tracking');
  });
});

describe('event rules in a stream definition', () => {
  const zone = { id: 'bed', polygon: [[0.1, 0.5], [0.5, 0.5], [0.5, 0.9]], suppress: ['fall'] };

  it('are validated strictly, each problem named by its path', () => {
    const stream = parseStream({ id: 'room', url: 'rtsp://cam/x', events: { zones: [zone], fall: { minDownSec: 2 } } });
    expect(stream.events?.zones[0]).toMatchObject({ id: 'bed', suppress: ['fall'], debounceSec: 0.3 });
    expect(stream.events?.fall.minDownSec).toBe(2);
    const error = errorOf(() => parseStream({ id: 'room', url: 'rtsp://cam/x', events: { zones: [{ ...zone, polygon: [[0, 0], [2, 0]] }], fall: { minDownsec: 2 } } }));
    expect(error.message).toContain('events.zones[0].polygon: Too small');
    expect(error.message).toContain('minDownsec');
    expect(parseStreamPatch({ events: { lines: [{ id: 'door', a: [0.5, 0], b: [0.5, 1] }] } }).events?.lines[0]?.band).toBe(0.01);
  });

  it('read back from the registry keep settings of a newer version instead of failing the stream', () => {
    const read = readStoredStream({ id: 'room', url: 'rtsp://cam/x', events: { fall: { minDownSec: 2, futureKnob: 3 }, zones: [{ ...zone, color: 'red' }] } });
    expect(read.ok).toBe(true);
    const stored = read.ok ? read.stored : undefined;
    expect(stored?.stream.events?.fall.minDownSec).toBe(2);
    expect(storedStreamValue(stored!)).toMatchObject({ events: { fall: { futureKnob: 3 }, zones: [{ color: 'red' }] } });
    // A known setting that is invalid is still a problem.
    expect(readStoredStream({ id: 'room', url: 'rtsp://cam/x', events: { fall: { minDownSec: -1 } } }).ok).toBe(false);
  });

  it('are not source settings: changing them does not restart the source', () => {
    expect(sourceSettings(parseStream({ id: 'room', url: 'rtsp://cam/x', events: { zones: [zone] } }))).toEqual(sourceSettings(parseStream({ id: 'room', url: 'rtsp://cam/x' })));
  });
});
