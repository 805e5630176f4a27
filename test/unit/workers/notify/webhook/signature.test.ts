import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from '../../../../../workers/notify/webhook/signature.js';

const secret = 'a-long-enough-secret';
const body = '{"id":"door:fall:3:120"}';

describe('webhook signature', () => {
  it('is sha256= and the hex HMAC of "<timestamp>.<body>"', () => {
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(signWebhook(secret, 1_700_000_000, body)).toBe(`sha256=${expected}`);
  });

  it('verifies, and rejects another body, secret or timestamp, and an old timestamp', () => {
    const signature = signWebhook(secret, 1_700_000_000, body);
    const headers = { signature, timestamp: '1700000000' };
    expect(verifyWebhook(secret, headers, body, { nowSec: 1_700_000_010 })).toEqual({ ok: true });
    expect(verifyWebhook(secret, headers, `${body} `, { nowSec: 1_700_000_010 })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhook('another-secret-value', headers, body, { nowSec: 1_700_000_010 })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhook(secret, { signature, timestamp: '1700000001' }, body, { nowSec: 1_700_000_010 })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhook(secret, headers, body, { nowSec: 1_700_000_000 + 301 })).toEqual({ ok: false, reason: 'expired' });
    expect(verifyWebhook(secret, { signature: undefined, timestamp: '1' }, body)).toEqual({ ok: false, reason: 'missing' });
    expect(verifyWebhook(secret, { signature: 'md5=00', timestamp: '1700000000' }, body)).toEqual({ ok: false, reason: 'malformed' });
  });
});
