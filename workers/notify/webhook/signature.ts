import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook request signing. Each POST carries
 *
 *   X-Posestream-Timestamp: <unix seconds when this attempt was sent>
 *   X-Posestream-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *
 * The timestamp is inside the MAC (as Stripe and Slack do): a signature over the body alone would let anyone who
 * captured one request replay it later with a fresh timestamp header. A receiver recomputes the MAC over the
 * exact bytes it received, compares in constant time, and rejects timestamps older than its tolerance; within the
 * tolerance it de-duplicates by the event id (delivery is at-least-once anyway).
 */

export const SIGNATURE_HEADER = 'x-posestream-signature';
export const TIMESTAMP_HEADER = 'x-posestream-timestamp';
export const EVENT_ID_HEADER = 'x-posestream-event-id';
export const EVENT_TYPE_HEADER = 'x-posestream-event';

const SCHEME = 'sha256=';

export function signWebhook(secret: string, timestampSec: number, body: string | Buffer): string {
  return SCHEME + createHmac('sha256', secret).update(`${timestampSec}.`).update(body).digest('hex');
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'mismatch' | 'expired' };

/**
 * What a receiver does (exported for Node receivers and our tests): `tolerance` seconds either way of `now`.
 */
export function verifyWebhook(
  secret: string,
  headers: { signature: string | undefined; timestamp: string | undefined },
  body: string | Buffer,
  options: { toleranceSec?: number; nowSec?: number } = {},
): SignatureCheck {
  const { signature, timestamp } = headers;
  if (signature === undefined || timestamp === undefined) return { ok: false, reason: 'missing' };
  if (!/^\d{1,12}$/.test(timestamp) || !signature.startsWith(SCHEME)) return { ok: false, reason: 'malformed' };
  const expected = Buffer.from(signWebhook(secret, Number(timestamp), body));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'mismatch' };
  const now = options.nowSec ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > (options.toleranceSec ?? 300)) return { ok: false, reason: 'expired' };
  return { ok: true };
}
