import type { ChainableCommander } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { keys, PREVIEW_LENGTH } from '../../../../pipeline/redis/keys.js';
import { ResultPublisher } from '../../../../pipeline/redis/result-stream.js';
import { WIRE_VERSION } from '../../../../pipeline/wire/v1.js';
import { sampleMeta, sampleResult } from '../../../support/wire-samples.js';

const meta = sampleMeta;
const result = sampleResult;

/** Records the commands a MULTI would receive. */
function recordingMulti() {
  const calls: unknown[][] = [];
  const multi = { xadd: (...args: unknown[]) => { calls.push(args); return multi; } };
  return { multi: multi as unknown as ChainableCommander, calls };
}

describe('ResultPublisher.addInto', () => {
  it('appends the result with approximate trimming at the retention', () => {
    const { multi, calls } = recordingMulti();
    new ResultPublisher({ retention: 500 }).addInto(multi, result);
    expect(calls).toHaveLength(1);
    const [key, maxlen, approx, bound, id, field, text] = calls[0]!;
    expect([key, maxlen, approx, bound, id, field]).toEqual([keys.results('cam1'), 'MAXLEN', '~', 500, '*', 'r']);
    expect(JSON.parse(text as string)).toEqual(result);
  });

  it('adds the preview entry, trimmed exactly, only when a preview frame is given', () => {
    const { multi, calls } = recordingMulti();
    const pixels = Buffer.alloc(4 * 2 * 3, 9);
    new ResultPublisher({ retention: 500 }).addInto(multi, result, { meta, pixels });
    expect(calls).toHaveLength(2);
    const preview = calls[1]!;
    expect(preview.slice(0, 4)).toEqual([keys.preview('cam1'), 'MAXLEN', PREVIEW_LENGTH, '*']);
    expect(preview[preview.indexOf('px') + 1]).toBe(pixels);
  });

  it('never writes a preview for an end-of-stream', () => {
    const { multi, calls } = recordingMulti();
    new ResultPublisher({ retention: 500 }).addInto(
      multi,
      { v: WIRE_VERSION, kind: 'eos', streamId: 'cam1', lastSeq: 7, reason: 'eof', publishedTs: 1 },
      { meta, pixels: Buffer.alloc(24) },
    );
    expect(calls).toHaveLength(1);
  });
});

describe('ResultPublisher age bound', () => {
  it('trims by age (XTRIM MINID ~) at most once per interval per stream', () => {
    const calls: unknown[][] = [];
    const multi = {
      xadd: (...args: unknown[]) => (calls.push(['xadd', ...args]), multi),
      xtrim: (...args: unknown[]) => (calls.push(['xtrim', ...args]), multi),
    } as unknown as ChainableCommander;
    const publisher = new ResultPublisher({ retention: 500, maxAgeSec: 60 });
    publisher.addInto(multi, result, undefined, 100_000);
    publisher.addInto(multi, result, undefined, 101_000);
    publisher.addInto(multi, result, undefined, 106_000);
    const trims = calls.filter((c) => c[0] === 'xtrim');
    expect(trims).toEqual([
      ['xtrim', keys.results('cam1'), 'MINID', '~', '40000-0'],
      ['xtrim', keys.results('cam1'), 'MINID', '~', '46000-0'],
    ]);
  });
});
