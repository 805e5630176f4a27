import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { RedisClient } from '../../../../pipeline/redis/client.js';
import { onlineReplicas, ReplicaGuard } from '../../../../pipeline/redis/replica-guard.js';

const INFO_ONE_ONLINE = [
  '# Replication',
  'role:master',
  'connected_slaves:2',
  'slave0:ip=127.0.0.1,port=7393,state=online,offset=4242,lag=0',
  'slave1:ip=127.0.0.1,port=7396,state=wait_bgsave,offset=0,lag=0',
  'master_failover_state:no-failover',
].join('\r\n');

/** A stand-in for a single Redis whose INFO replication the test sets. */
function fakeRedis(info: () => string): RedisClient {
  return { info: async () => info() } as unknown as RedisClient;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ReplicaGuard', () => {
  it('counts replicas in state online only', () => {
    expect(onlineReplicas(INFO_ONE_ONLINE)).toBe(1);
    expect(onlineReplicas('# Replication\r\nrole:master\r\nconnected_slaves:0\r\n')).toBe(0);
  });

  it('waits for as many replicas as asked while they are online, fewer when fewer are, none without any', async () => {
    let info = INFO_ONE_ONLINE;
    const shorts: number[] = [];
    const guard = new ReplicaGuard(fakeRedis(() => info), { replicas: 2, timeoutMs: 500, logger: pino({ level: 'silent' }), what: 'frames', onShort: () => shorts.push(1) });
    // Before the first reading: assume enough (the safe side: wait).
    expect(guard.waitFor('k')).toEqual({ replicas: 2, timeoutMs: 500 });
    await settle();
    expect(guard.waitFor('k')).toEqual({ replicas: 1, timeoutMs: 500 });
    guard.settle(1);
    expect(shorts).toHaveLength(1);
    info = '# Replication\r\nrole:master\r\nconnected_slaves:0\r\n';
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    guard.waitFor('k');
    await settle();
    expect(guard.waitFor('k')).toBeUndefined();
    guard.settle(undefined);
    expect(shorts).toHaveLength(2);
  });

  it('never waits when no replica is asked for', () => {
    const guard = new ReplicaGuard(fakeRedis(() => INFO_ONE_ONLINE), { replicas: 0, timeoutMs: 500, logger: pino({ level: 'silent' }), what: 'frames' });
    expect(guard.enabled).toBe(false);
    expect(guard.waitFor('k')).toBeUndefined();
  });
});
