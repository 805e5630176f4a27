import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeBenchConfig } from '../../../../cli/bench/pipeline-support.js';

describe('writeBenchConfig', () => {
  it('resolves a relative --model against the working directory, not the temporary config folder', () => {
    const { config, file } = writeBenchConfig({ redis: { url: 'redis://127.0.0.1:6390/25' }, model: 'build/models/m.xml', streams: [] });
    expect(path.dirname(file)).not.toBe(process.cwd());
    expect(config.model.path).toBe(path.resolve('build/models/m.xml'));
  });

  it('writes a cluster when the benchmark runs on one (--redis-cluster)', () => {
    const { config } = writeBenchConfig({ redis: { cluster: ['redis://127.0.0.1:7100', 'redis://127.0.0.1:7101'] }, model: 'm.xml', streams: [] });
    expect(config.redis).toMatchObject({ cluster: ['redis://127.0.0.1:7100', 'redis://127.0.0.1:7101'] });
    expect(config.redis.url).toBeUndefined();
  });
});
