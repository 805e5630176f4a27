import { describe, expect, it } from 'vitest';
import { DEFAULT_TRACKER_CONFIG, trackerConfig, trackerConfigSchema } from '../../../../pipeline/tracking/config.js';

describe('tracker config', () => {
  it('has literature defaults and fills what is not given', () => {
    expect(DEFAULT_TRACKER_CONFIG).toMatchObject({ lowScore: 0.1, matchCost: 0.8, lowMatchCost: 0.5, tentativeMatchCost: 0.7, confirmHits: 2, lostTimeoutSec: 1 });
    expect(trackerConfig({ lostTimeoutSec: 3, smoothing: { enabled: true } })).toMatchObject({
      lostTimeoutSec: 3,
      highScore: DEFAULT_TRACKER_CONFIG.highScore,
      smoothing: { enabled: true, minCutoff: 0.05, beta: 80, derivativeCutoff: 1 },
    });
  });

  it('rejects unknown keys and out-of-range values, naming the field', () => {
    const issues = (input: unknown) => trackerConfigSchema.safeParse(input).error?.issues.map((issue) => issue.path.join('.')) ?? [];
    expect(issues({ lostTimout: 2 })).toEqual(['']); // unrecognized key, reported on the object
    expect(trackerConfigSchema.safeParse({ lostTimout: 2 }).error?.message).toMatch(/lostTimout/);
    expect(issues({ highScore: 1.5 })).toContain('highScore');
    expect(issues({ lostTimeoutSec: 0 })).toEqual(['lostTimeoutSec']);
    expect(issues({ confirmHits: 1.5 })).toEqual(['confirmHits']);
    expect(issues({ smoothing: { beta: -1 } })).toEqual(['smoothing.beta']);
    expect(issues({ smoothing: { enable: true } })).toEqual(['smoothing']);
    expect(issues({ lowScore: 0.6 })).toEqual(['lowScore']);
    expect(issues({ highScore: 0.7 })).toEqual(['newTrackScore']);
    expect(issues({ highScore: 0.7, newTrackScore: 0.8 })).toEqual([]);
  });
});
