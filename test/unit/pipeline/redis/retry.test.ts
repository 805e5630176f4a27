import { describe, expect, it } from 'vitest';
import { isTransientRedisError, retryTransient } from '../../../../pipeline/redis/retry.js';
import { CommitError } from '../../../../pipeline/redis/transaction.js';

describe('isTransientRedisError', () => {
  it('knows the errors of a failover, a restart or a refused connection', () => {
    for (const message of [
      'Connection is closed.',
      'MOVED 9017 127.0.0.1:7394',
      'CLUSTERDOWN The cluster is down',
      'TRYAGAIN Multiple keys request during rehashing of slot',
      "LOADING Redis is loading the dataset in memory",
      'Too many Cluster redirections. Last error: Error: Connection is closed.',
      "Cluster isn't ready and enableOfflineQueue options is false",
    ]) {
      expect(isTransientRedisError(new Error(message)), message).toBe(true);
    }
    expect(isTransientRedisError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7000'), { code: 'ECONNREFUSED' }))).toBe(true);
  });

  it('looks through a commit error to what Redis said', () => {
    const moved = new Error('MOVED 9017 127.0.0.1:7394');
    expect(isTransientRedisError(new CommitError(`transaction failed: ${moved.message}`, false, { cause: moved }))).toBe(true);
  });

  it('does not retry what will fail again', () => {
    for (const message of ['WRONGTYPE Operation against a key holding the wrong kind of value', "ERR unknown command 'XFOO'", 'NOGROUP No such key']) {
      expect(isTransientRedisError(new Error(message)), message).toBe(false);
    }
  });
});

describe('retryTransient', () => {
  it('retries a transient failure until the step succeeds, telling each retry', async () => {
    let calls = 0;
    const retries: number[] = [];
    const value = await retryTransient(
      async () => {
        calls += 1;
        if (calls < 3) throw new Error('Connection is closed.');
        return 'ok';
      },
      { onRetry: (_error, attempt) => retries.push(attempt) },
    );
    expect(value).toBe('ok');
    expect(retries).toEqual([1, 2]);
  });

  it('throws a lasting failure at once, and stops when aborted', async () => {
    await expect(retryTransient(async () => Promise.reject(new Error('WRONGTYPE nope')))).rejects.toThrow(/WRONGTYPE/);
    const abort = new AbortController();
    const pending = retryTransient(async () => Promise.reject(new Error('Connection is closed.')), { signal: abort.signal });
    abort.abort(new Error('stream stopped'));
    await expect(pending).rejects.toThrow(/stream stopped/);
  });
});
