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

  it('masks the password of every cluster node', () => {
    const config = parseConfig(
      ['redis: {cluster: ["redis://:ClusterPa55@10.0.0.1:7000", "redis://:ClusterPa55@10.0.0.2:7000"]}', 'model: {path: /m.xml}'].join('\n'),
      '/etc/posestream.yaml',
      {},
    );
    const text = printableConfig(config);
    expect(text).not.toMatch(/ClusterPa55/);
    expect(JSON.parse(text).redis).toEqual({ cluster: ['redis://:***@10.0.0.1:7000', 'redis://:***@10.0.0.2:7000'], losslessReplicas: 1, replicaWaitMs: 1_000 });
  });
});

describe('check-config memory estimate', () => {
  it('prints each stream with its frames, results, events and preview, and the total', async () => {
    const { configMemoryEstimate, formatMemoryEstimate } = await import('../../../../cli/commands/check-config.js');
    const config = parseConfig(
      ['model: {path: /m.xml}', 'streams:', '  - {id: door, url: "rtsp://10.0.0.7/s"}', '  - {id: clip, url: /v.mp4, mode: lossless}'].join('\n'),
      '/etc/posestream.yaml',
      {},
    );
    const estimate = configMemoryEstimate(config);
    const text = formatMemoryEstimate(estimate);
    // I420 frames (the default): 4 x ~0.33 MB live, 32 x lossless.
    expect(text).toMatch(/^\s+door\s+live\s+1\.3 MB\s+[\d.]+ MB\s+[\d.]+ MB\s+1\.3 MB\s+[\d.]+ MB$/m);
    expect(text).toMatch(/^\s+clip\s+lossless\s+10\.6 MB/m);
    expect(text).toContain(`total ${(estimate.total / 1024 / 1024).toFixed(1)} MB`);
    // A lossless stream's 32 queued frames cost more than a live stream's 4.
    expect(estimate.streams[1]!.total).toBeGreaterThan(estimate.streams[0]!.total);
  });
});
