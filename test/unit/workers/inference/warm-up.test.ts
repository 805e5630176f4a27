import { describe, expect, it } from 'vitest';
import { blankFrame, warmUpBatchSizes, type EngineFrame, type EngineResult, type PoseInference } from '../../../../workers/inference/pose-engine.js';

/** Records the batch sizes it is asked to infer. */
function recordingEngine(maxBatch: number): PoseInference & { sizes: number[] } {
  const sizes: number[] = [];
  return {
    sizes,
    requests: 1,
    capacity: 1,
    maxBatch,
    precision: 'f32',
    device: 'CPU',
    infer: async (frames: EngineFrame[]) => {
      sizes.push(frames.length);
      return { persons: frames.map(() => []), inferMs: 1 } as unknown as EngineResult;
    },
    dispose: async () => {},
  };
}

describe('warmUpBatchSizes', () => {
  it('runs one batch of every size up to maxBatch, in order', async () => {
    const engine = recordingEngine(4);
    await warmUpBatchSizes(engine, blankFrame('i420', 32));
    expect(engine.sizes).toEqual([1, 2, 3, 4]);
  });

  it('a batch-1 engine is warmed with one frame', async () => {
    const engine = recordingEngine(1);
    await warmUpBatchSizes(engine, blankFrame('rgb24', 32));
    expect(engine.sizes).toEqual([1]);
  });
});
