import { describe, expect, it } from 'vitest';
import { streamsWithinThreadPool } from '../../../../workers/ingest/main.js';

describe('streamsWithinThreadPool', () => {
  it('keeps 2 libuv threads per stream plus 4 spare', () => {
    expect(streamsWithinThreadPool(16, '64')).toBe(16);
    expect(streamsWithinThreadPool(16, '20')).toBe(8);
    expect(streamsWithinThreadPool(4, '11')).toBe(3);
  });

  it('runs one stream on the default pool of 4 and treats junk as the default', () => {
    expect(streamsWithinThreadPool(16, undefined)).toBe(1);
    expect(streamsWithinThreadPool(16, 'lots')).toBe(1);
    expect(streamsWithinThreadPool(16, '0')).toBe(1);
  });
});
