import { describe, expect, it } from 'vitest';
import { parseClientMessage } from '../../../../gateway/ws/client-message.js';
import { MAX_CLIENT_MESSAGE_BYTES } from '../../../../pipeline/wire/v1.js';

const parse = (value: unknown) => parseClientMessage(typeof value === 'string' ? value : JSON.stringify(value), false);

describe('parseClientMessage', () => {
  it('accepts a valid subscribe', () => {
    const parsed = parse({ v: 1, type: 'subscribe', id: 'a', streams: ['cam'], channels: ['results', 'frames'], fromStart: true, annotated: false });
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.message.type).toBe('subscribe');
  });

  it.each([
    ['not json', '{"v":1,', 'PS_WS_BAD_JSON', /not valid JSON/],
    ['an array', [1, 2], 'PS_WS_BAD_MESSAGE', /JSON object/],
    ['an unknown type', { v: 1, type: 'launch' }, 'PS_WS_UNKNOWN_TYPE', /"launch".*subscribe, unsubscribe, ping/],
    ['an unknown channel', { v: 1, type: 'subscribe', streams: ['a'], channels: ['video'] }, 'PS_WS_INVALID', /channels\.0/],
    ['a wrong version', { v: 2, type: 'ping' }, 'PS_WS_INVALID', /^invalid ping message: v:/],
    ['an extra key', { v: 1, type: 'ping', extra: 1 }, 'PS_WS_INVALID', /extra/],
    ['no streams', { v: 1, type: 'subscribe', streams: [], channels: ['results'] }, 'PS_WS_INVALID', /streams/],
  ])('rejects %s with a message naming the problem', (_what, value, code, pattern) => {
    const parsed = parse(value);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.code).toBe(code);
      expect(parsed.message).toMatch(pattern);
    }
  });

  it('keeps the request id on errors so the client can match them', () => {
    const parsed = parse({ v: 1, type: 'subscribe', id: 'req-7', streams: ['a'], channels: [] });
    expect(parsed).toMatchObject({ ok: false, id: 'req-7' });
  });

  it('rejects oversized and binary messages', () => {
    const big = JSON.stringify({ v: 1, type: 'ping', id: 'x'.repeat(MAX_CLIENT_MESSAGE_BYTES) });
    expect(parseClientMessage(big, false)).toMatchObject({ ok: false, code: 'PS_WS_TOO_BIG' });
    expect(parseClientMessage(Buffer.from('{}'), true)).toMatchObject({ ok: false, code: 'PS_WS_BINARY' });
  });
});
