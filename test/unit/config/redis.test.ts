import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../config/load.js';
import { configProblems as problemsOf } from '../../support/config-problems.js';

const FILE = '/etc/posestream/test.yaml';
const minimal = 'model: {path: /m.xml}\n';

describe('redis config', () => {
  it('defaults to one Redis on localhost, without waiting for replicas', () => {
    expect(parseConfig(minimal, FILE, {}).redis).toEqual({ url: 'redis://127.0.0.1:6379', losslessReplicas: 0, replicaWaitMs: 1_000 });
  });

  it('takes a cluster as start-up node URLs; lossless writes then wait for one replica by default', () => {
    const config = parseConfig(`${minimal}redis: {cluster: ["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"]}\n`, FILE, {});
    expect(config.redis).toEqual({ cluster: ['redis://10.0.0.1:7000', 'redis://10.0.0.2:7000'], losslessReplicas: 1, replicaWaitMs: 1_000 });
    expect(parseConfig(`${minimal}redis: {cluster: ["redis://a:7000"], losslessReplicas: 0}\n`, FILE, {}).redis.losslessReplicas).toBe(0);
  });

  it('refuses url and cluster together, a cluster node with a database, an empty list and unknown keys', () => {
    expect(problemsOf(`${minimal}redis: {url: "redis://a:6379", cluster: ["redis://b:7000"]}\n`)).toEqual([
      'redis.cluster: give redis.url (one Redis) or redis.cluster (Redis Cluster nodes), not both',
    ]);
    expect(problemsOf(`${minimal}redis: {cluster: ["redis://b:7000/3"]}\n`)[0]).toMatch(/^redis\.cluster\[0\]: a cluster node URL names no database/);
    expect(problemsOf(`${minimal}redis: {cluster: ["http://b:7000"]}\n`)[0]).toMatch(/^redis\.cluster\[0\]: a cluster node is redis:\/\/host:port/);
    expect(problemsOf(`${minimal}redis: {cluster: []}\n`)[0]).toMatch(/^redis\.cluster: /);
    expect(problemsOf(`${minimal}redis: {clusters: ["redis://b:7000"]}\n`)[0]).toMatch(/^redis: .*clusters/);
  });

  it('switches between one Redis and a cluster from the environment (comma-separated or a YAML list)', () => {
    const fromFile = `${minimal}redis: {url: "redis://single:6379"}\n`;
    expect(parseConfig(fromFile, FILE, { POSESTREAM_REDIS_CLUSTER: 'redis://a:7000, redis://b:7000' }).redis).toMatchObject({
      cluster: ['redis://a:7000', 'redis://b:7000'],
      losslessReplicas: 1,
    });
    expect(parseConfig(fromFile, FILE, { POSESTREAM_REDIS_CLUSTER: '[redis://a:7000]' }).redis.cluster).toEqual(['redis://a:7000']);
    const clustered = `${minimal}redis: {cluster: ["redis://a:7000"]}\n`;
    expect(parseConfig(clustered, FILE, { POSESTREAM_REDIS_URL: 'redis://r:6379/2' }).redis).toEqual({ url: 'redis://r:6379/2', losslessReplicas: 0, replicaWaitMs: 1_000 });
    expect(parseConfig(clustered, FILE, { POSESTREAM_REDIS_LOSSLESS_REPLICAS: '2' }).redis.losslessReplicas).toBe(2);
  });
});
