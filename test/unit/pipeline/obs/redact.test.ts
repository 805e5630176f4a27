import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../../pipeline/obs/logger.js';
import { redactSecrets, redactUrl, registerSecrets, urlOrigin, urlSecretParts } from '../../../../pipeline/obs/redact.js';

describe('redactSecrets', () => {
  it('masks the password of any URL in a text, keeping the user and host', () => {
    expect(redactSecrets('stream rtsp://admin:Pa55word@10.0.0.7:554/s1 failed')).toBe('stream rtsp://admin:***@10.0.0.7:554/s1 failed');
    expect(redactSecrets('{"url":"redis://:s3cret@redis:6379/0"}')).toBe('{"url":"redis://:***@redis:6379/0"}');
    expect(redactSecrets('http://u:p%40ss@h/x and rtsps://a:b@c/d')).toBe('http://u:***@h/x and rtsps://a:***@c/d');
    expect(redactSecrets('rtsp://admin:Pa@55:word@cam/x')).toBe('rtsp://admin:***@cam/x');
    expect(redactSecrets('{"a":"rtsp://cam:554/x","b":"me@example.com"}')).toBe('{"a":"rtsp://cam:554/x","b":"me@example.com"}');
  });

  it('masks secret query parameters and leaves other text alone', () => {
    expect(redactSecrets('/ws?token=abcdefgh&x=1')).toBe('/ws?token=***&x=1');
    expect(redactSecrets('https://h/cb?sig=deadbeef#f')).toBe('https://h/cb?sig=***#f');
    expect(redactSecrets('rtsp://10.0.0.7/stream1 user@example.com 12:30')).toBe('rtsp://10.0.0.7/stream1 user@example.com 12:30');
    expect(redactUrl('rtsp://cam/x')).toBe('rtsp://cam/x');
  });
});

describe('createLogger', () => {
  const capture = () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        lines.push(chunk.toString());
        callback();
      },
    });
    return { lines, destination };
  };

  it('never writes a URL password, whether in the message, a field, a child binding or an error', () => {
    const { lines, destination } = capture();
    const logger = createLogger('test', { destination, pretty: false }).child({ source: 'rtsp://admin:Pa55word@cam/1' });
    logger.info({ url: 'rtsp://admin:Pa55word@cam/1' }, 'stream started rtsp://admin:Pa55word@cam/1');
    logger.warn({ err: new Error('Could not open rtsp://admin:Pa55word@cam/1') }, 'failed');
    expect(lines.join('')).not.toContain('Pa55word');
    expect(lines.join('')).toContain('rtsp://admin:***@cam/1');
    expect(JSON.parse(lines[0]!)).toMatchObject({ role: 'test', msg: 'stream started rtsp://admin:***@cam/1' });
  });

  it('writes human-readable lines when asked (terminals), still redacted', () => {
    const { lines, destination } = capture();
    createLogger('test', { destination, pretty: true }).info({ url: 'rtsp://a:Pa55word@cam/1' }, 'stream started');
    const text = lines.join('');
    expect(text).toMatch(/INFO.*stream started/);
    expect(() => JSON.parse(lines[0]!)).toThrow();
    expect(text).toContain('rtsp://a:***@cam/1');
    expect(text).not.toContain('Pa55word');
  });
});

describe('registered secrets and URL parts', () => {
  it('masks registered values (and their URL-encoded form) in every text, ignoring values too short to be secrets', () => {
    registerSecrets(['hook-token-0815', 'p@ss word', 'ab', undefined]);
    expect(redactSecrets('POST to /api/webhook/hook-token-0815 failed')).toBe('POST to /api/webhook/*** failed');
    expect(redactSecrets('auth p@ss word or p%40ss%20word')).toBe('auth *** or ***');
    expect(redactSecrets('ab abc')).toBe('ab abc');
  });

  it('names an endpoint by scheme, host and port, and lists the parts of a URL that may be secret', () => {
    expect(urlOrigin('https://user:pw@hooks.example:8443/api/webhook/SECRET?token=X')).toBe('https://hooks.example:8443');
    expect(urlOrigin('mqtt://bob:hunter2@broker.lan:1883')).toBe('mqtt://broker.lan:1883');
    expect(urlOrigin('not a url')).toBe('<invalid url>');
    expect(urlSecretParts('http://alice:p%40ss@h:9/api/hook?token=t0k')).toEqual(['alice', 'alice', 'p%40ss', 'p@ss', 'token=t0k', 'token=t0k', '/api/hook', '/api/hook']);
    expect(urlSecretParts('https://h/')).toEqual([]);
  });
});
