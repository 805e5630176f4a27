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

  it('carries frames as I420 unless model.inputFormat says rgb', () => {
    expect(parseConfig(minimal, FILE, {}).model.inputFormat).toBe('i420');
    expect(parseConfig(minimal, FILE, { POSESTREAM_MODEL_INPUT_FORMAT: 'rgb' }).model.inputFormat).toBe('rgb');
    expect(problemsOf(minimal, { POSESTREAM_MODEL_INPUT_FORMAT: 'nv12' })).toEqual([expect.stringMatching(/^model\.inputFormat: /)]);
  });

  it('takes text settings from the environment verbatim (a token of digits or YAML syntax stays text)', () => {
    for (const token of ['12345678', 'true-ish #x', '*alias&anchor', '[a, b] tok']) {
      expect(parseConfig(minimal, FILE, { POSESTREAM_GATEWAY_TOKEN: token }).gateway.token).toBe(token);
    }
    expect(parseConfig(minimal, FILE, { POSESTREAM_SOURCE_POLICY_ALLOW_FILES_UNDER: '[/srv/videos]' }).sourcePolicy.allowFilesUnder).toEqual(['/srv/videos']);
  });

  it('binds loopback by default and refuses any other host without a token, naming the field and the fixes', () => {
    const config = parseConfig(minimal, FILE, {});
    expect(config.gateway).toMatchObject({ host: '127.0.0.1', allowUnauthenticated: false });
    expect(config.sourcePolicy).toEqual({ allowFilesUnder: [], allowDevices: false, allowTestPatterns: false, allowAddresses: [] });
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'camera-box']) {
      const problems = problemsOf(`${minimal}gateway: {host: "${host}"}\n`);
      expect(problems, host).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^gateway\\.host: "${host.replace(/\./g, '\\.')}" is not a loopback address and gateway\\.token is not set`));
      expect(problems[0]).toMatch(/Set gateway\.token \(or POSESTREAM_GATEWAY_TOKEN.*bind 127\.0\.0\.1.*gateway\.allowUnauthenticated: true/);
    }
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost']) {
      expect(parseConfig(`${minimal}gateway: {host: "${host}"}\n`, FILE, {}).gateway.host).toBe(host);
    }
    expect(parseConfig(`${minimal}gateway: {host: 0.0.0.0, token: a-long-token}\n`, FILE, {}).gateway.token).toBe('a-long-token');
    expect(parseConfig(`${minimal}gateway: {host: 0.0.0.0, allowUnauthenticated: true}\n`, FILE, {}).gateway.allowUnauthenticated).toBe(true);
    expect(parseConfig(minimal, FILE, { POSESTREAM_GATEWAY_HOST: '0.0.0.0', POSESTREAM_GATEWAY_TOKEN: 'from-the-env' }).gateway.host).toBe('0.0.0.0');
    expect(problemsOf(minimal, { POSESTREAM_GATEWAY_HOST: '0.0.0.0' })[0]).toMatch(/^gateway\.host: /);
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
