import { describe, expect, it } from 'vitest';
import { jobIdFor } from '../../../../workers/ingest/assignment.js';

describe('jobIdFor', () => {
  it('keeps stream ids, except integer-like ones BullMQ would reject', () => {
    expect(jobIdFor('cam-1')).toBe('cam-1');
    expect(jobIdFor('7')).toBe('_7');
  });
});
