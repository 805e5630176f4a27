import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../../pipeline/obs/logger.js';
import { isConnectionError, isOutOfMemoryError, RedisHealth } from '../../../../pipeline/redis/health.js';

function capture() {
  const lines: Array<{ level: number; msg: string }> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger('test', { level: 'info', pretty: false, destination }) };
}

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });

describe('RedisHealth', () => {
  it('logs one warning for an outage of several connections and one line when all are back', async () => {
    const { lines, logger } = capture();
    const health = new RedisHealth();
    health.configure(logger, 'redis at redis://x:1');
    for (let i = 0; i < 5; i += 1) {
      health.connectionFailed('a#1', refused());
      health.connectionFailed('b#2', refused());
    }
    expect(health.current()?.reason).toBe('ECONNREFUSED');
    health.connectionReady('a#1');
    expect(health.current()).toBeDefined();
    health.connectionReady('b#2');
    expect(health.current()).toBeUndefined();
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual(['redis at redis://x:1 unreachable: ECONNREFUSED; retrying']);
    expect(lines.filter((l) => /reachable again/.test(l.msg))).toHaveLength(1);
  });

  it('a connection closed while failing no longer holds the outage open', () => {
    const health = new RedisHealth();
    health.connectionFailed('a#1', refused());
    health.connectionClosed('a#1');
    expect(health.current()).toBeUndefined();
  });
});

describe('error kinds', () => {
  it('tells connection errors and OOM apart from command errors', () => {
    expect(isConnectionError(refused())).toBe(true);
    expect(isConnectionError(new Error('Connection is closed.'))).toBe(true);
    expect(isConnectionError(new Error('ERR wrong number of arguments'))).toBe(false);
    expect(isOutOfMemoryError(new Error("OOM command not allowed when used memory > 'maxmemory'."))).toBe(true);
    expect(isOutOfMemoryError(refused())).toBe(false);
  });
});

describe('OOM inside a refused transaction', () => {
  it('is found through the cause chain', () => {
    const oom = new Error("OOM command not allowed when used memory > 'maxmemory'.");
    expect(isOutOfMemoryError(new Error('transaction failed: x', { cause: oom }))).toBe(true);
  });
});
