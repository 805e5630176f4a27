import { describe, expect, it } from 'vitest';
import { isPosestreamError } from '../../pipeline/errors.js';
import { parseStream } from '../../pipeline/streams/registry.js';
import { jobIdFor } from '../../workers/ingest/assignment.js';

function errorOf(input: unknown) {
  try {
    parseStream(input);
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
    const error = errorOf({ id: 'bad id!', url: 'ftp://x/y', fps: 0 });
    expect(error.code).toBe('PS_STREAM_INVALID');
    expect(error.message).toMatch(/^invalid stream: /);
    expect(error.message).toContain('id: must be 1-64 characters');
    expect(error.message).toContain('url: unsupported scheme "ftp:"');
    expect(error.message).toMatch(/fps: .*>0|fps: .*greater than 0/i);
  });

  it('rejects unknown keys and names them', () => {
    expect(errorOf({ id: 'a', url: '/a.mp4', fsp: 5 }).message).toMatch(/fsp/);
  });
});

describe('jobIdFor', () => {
  it('keeps stream ids, except integer-like ones BullMQ would reject', () => {
    expect(jobIdFor('cam-1')).toBe('cam-1');
    expect(jobIdFor('7')).toBe('_7');
  });
});
