import { describe, expect, it } from 'vitest';
import { printableConfig } from '../../../../cli/commands/check-config.js';
import { parseConfig } from '../../../../config/load.js';

describe('check-config output', () => {
  it('prints the effective configuration without the token or any URL password', () => {
    const config = parseConfig(
      [
        'redis: {url: "redis://:RedisPa55@redis:6379/0"}',
        'model: {path: /m.xml}',
        'gateway: {host: 0.0.0.0, token: gateway-token-123}',
        'streams:',
        '  - {id: door, url: "rtsp://admin:Pa55word@10.0.0.7/stream1"}',
      ].join('\n'),
      '/etc/posestream.yaml',
      {},
    );
    const text = printableConfig(config);
    expect(text).not.toMatch(/Pa55word|RedisPa55|gateway-token-123/);
    expect(JSON.parse(text)).toMatchObject({
      redis: { url: 'redis://:***@redis:6379/0' },
      gateway: { host: '0.0.0.0', token: '***' },
      streams: [{ id: 'door', url: 'rtsp://admin:***@10.0.0.7/stream1' }],
    });
  });
});
