import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeBenchConfig } from '../../../../cli/bench/pipeline-support.js';

describe('writeBenchConfig', () => {
  it('resolves a relative --model against the working directory, not the temporary config folder', () => {
    const { config, file } = writeBenchConfig({ redisUrl: 'redis://127.0.0.1:6390/25', model: 'build/models/m.xml', streams: [] });
    expect(path.dirname(file)).not.toBe(process.cwd());
    expect(config.model.path).toBe(path.resolve('build/models/m.xml'));
  });
});
