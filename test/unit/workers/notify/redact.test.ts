import { describe, expect, it } from 'vitest';
import { safeOrigin, scrubSecrets, urlSecrets } from '../../../../workers/notify/redact.js';

describe('redaction', () => {
  it('names an endpoint by scheme, host and port only', () => {
    expect(safeOrigin('https://user:pw@hooks.example:8443/api/webhook/SECRET?token=X')).toBe('https://hooks.example:8443');
    expect(safeOrigin('mqtt://bob:hunter2@broker.lan:1883')).toBe('mqtt://broker.lan:1883');
    expect(safeOrigin('not a url')).toBe('<invalid url>');
  });

  it('scrubs every secret part of a URL from error texts, also URL-encoded', () => {
    const url = 'http://alice:p%40ss@127.0.0.1:9000/api/webhook/abc123hook?token=t0k3n';
    const text = `request to ${url} failed; user alice p@ss p%40ss /api/webhook/abc123hook token=t0k3n`;
    const scrubbed = scrubSecrets(text, urlSecrets(url));
    for (const secret of ['alice', 'p@ss', 'p%40ss', 'abc123hook', 't0k3n']) expect(scrubbed).not.toContain(secret);
    expect(scrubSecrets('ECONNREFUSED', ['a-secret'])).toBe('ECONNREFUSED');
  });
});
