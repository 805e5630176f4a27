import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../../config/load.js';

const FILE = '/etc/posestream/test.yaml';
const minimal = 'model:\n  path: m.xml\n';

function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(text, FILE, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(FILE);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('fills defaults and resolves relative paths against the config file', () => {
    const config = parseConfig(`${minimal}streams:\n  - id: cam1\n    url: videos/a.mp4\n`, FILE, {});
    expect(config.model.path).toBe('/etc/posestream/m.xml');
    expect(config.model.cacheDir).toBe('/etc/posestream/build/ov-cache');
    expect(config.worker.batchSize).toBe(4);
    expect(config.streams[0]).toMatchObject({ id: 'cam1', url: '/etc/posestream/videos/a.mp4', mode: 'live', loop: false, enabled: true });
    expect(Object.isFrozen(config.streams[0])).toBe(true);
  });

  it('keeps network URLs, devices and test patterns as they are', () => {
    const config = parseConfig(
      `${minimal}streams:\n  - {id: a, url: "rtsp://cam.local:8554/live"}\n  - {id: b, url: /dev/video0}\n  - {id: c, url: "test://ball"}\n`,
      FILE,
      {},
    );
    expect(config.streams.map((s) => s.url)).toEqual(['rtsp://cam.local:8554/live', '/dev/video0', 'test://ball']);
  });

  it('names the field of a wrong type, an unknown key and a missing model', () => {
    expect(problemsOf(`${minimal}worker:\n  batchSize: many\n`)).toEqual([expect.stringMatching(/^worker\.batchSize: .*number/)]);
    expect(problemsOf(`${minimal}gateway:\n  prot: 80\n`)).toEqual([expect.stringMatching(/^gateway: .*prot/)]);
    expect(problemsOf('streams: []\n')).toEqual([expect.stringMatching(/^model: /)]);
  });

  it('rejects duplicate stream ids, pointing at the second one', () => {
    const problems = problemsOf(`${minimal}streams:\n  - {id: a, url: "test://ball"}\n  - {id: a, url: "test://snow"}\n`);
    expect(problems).toEqual(['streams[1].id: duplicate stream id "a" (also streams[0])']);
  });

  it('explains bad stream URLs', () => {
    const problems = problemsOf(`${minimal}streams:\n  - {id: a, url: "ftp://x/y"}\n  - {id: b, url: "test://nope"}\n  - {id: c, url: "rtsp://"}\n`);
    expect(problems[0]).toMatch(/^streams\[0\]\.url: unsupported scheme "ftp:"/);
    expect(problems[1]).toMatch(/^streams\[1\]\.url: unknown test pattern "nope"/);
    expect(problems[2]).toMatch(/^streams\[2\]\.url: /);
  });

  it('reports YAML syntax errors and a non-mapping document', () => {
    expect(problemsOf('model: [unclosed\n')[0]).toMatch(/^YAML syntax: /);
    expect(problemsOf('- just\n- a list\n')[0]).toMatch(/must be a mapping/);
  });

  it('applies POSESTREAM_<SECTION>_<KEY> overrides with YAML typing', () => {
    const config = parseConfig(minimal, FILE, { POSESTREAM_WORKER_BATCH_SIZE: '8', POSESTREAM_REDIS_URL: 'redis://r:6379/2' });
    expect(config.worker.batchSize).toBe(8);
    expect(config.redis.url).toBe('redis://r:6379/2');
    expect(problemsOf(minimal, { POSESTREAM_GATEWAY_PORT: 'eighty' })).toEqual([expect.stringMatching(/^gateway\.port: /)]);
    expect(problemsOf(minimal, { POSESTREAM_MODEL_INPUT_SIZE: '650' })).toEqual(['model.inputSize: must be a multiple of 32 (the model strides)']);
  });

  it('substitutes ${VAR} and ${VAR:-default} and names an unset variable', () => {
    const text = `model:\n  path: \${MODELS}/m.xml\nstreams:\n  - {id: a, url: "\${CAM:-test://ball}"}\n`;
    const config = parseConfig(text, FILE, { MODELS: '/models' });
    expect(config.model.path).toBe('/models/m.xml');
    expect(config.streams[0]!.url).toBe('test://ball');
    expect(problemsOf(text, {})).toEqual(['environment variable MODELS is referenced but not set']);
  });
});

describe('loadConfig', () => {
  it('names the file that cannot be read', () => {
    expect(() => loadConfig('/nonexistent/posestream.yaml', {})).toThrow(/\/nonexistent\/posestream\.yaml[\s\S]*file not found/);
  });

  it('loads the demo config shipped in config/', () => {
    const { config, file } = loadConfig(undefined, {});
    expect(path.basename(file)).toBe('posestream.yaml');
    expect(config.streams.length).toBeGreaterThan(0);
  });

  it('reads a file from disk', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ps-config-'));
    const file = path.join(dir, 'c.yaml');
    writeFileSync(file, minimal);
    expect(loadConfig(file, {}).config.model.path).toBe(path.join(dir, 'm.xml'));
  });
});
