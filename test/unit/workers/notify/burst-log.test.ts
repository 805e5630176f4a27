import pino from 'pino';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BurstLog } from '../../../../workers/notify/burst-log.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({ write(chunk, _encoding, done) { lines.push(JSON.parse(String(chunk))); done(); } });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

describe('BurstLog', () => {
  it('logs the first failure of a burst and one line with the count when it ends', async () => {
    const { lines, logger } = capture();
    const burst = new BurstLog(logger, { first: 'dropping', ended: 'delivering again' });
    for (let i = 0; i < 50; i += 1) burst.hit({ reason: 'queue_full' });
    burst.end();
    burst.end();
    burst.hit({ reason: 'retries_exhausted' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((line) => [line.msg, line.count ?? line.reason])).toEqual([
      ['dropping', 'queue_full'],
      ['delivering again', 50],
      ['dropping', 'retries_exhausted'],
    ]);
  });
});
