import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../../pipeline/obs/metrics.js';

describe('createMetrics', () => {
  it("prefixes Node's default metrics once", async () => {
    const text = await createMetrics().registry.metrics();
    expect(text).toMatch(/^posestream_process_cpu_seconds_total /m);
    expect(text).toMatch(/^posestream_nodejs_heap_size_used_bytes /m);
    expect(text).not.toMatch(/posestream_process_process_|posestream_process_nodejs_/);
  });
});
