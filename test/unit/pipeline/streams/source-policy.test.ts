import { describe, expect, it } from 'vitest';
import { isPosestreamError } from '../../../../pipeline/errors.js';
import {
  canonicalHost,
  checkSource,
  isLoopbackAddress,
  lexicalFilePath,
  sourcePolicySchema,
  type SourcePolicyContext,
} from '../../../../pipeline/streams/source-policy.js';

/** A world without a network or a disk: names, symlinks and the deployment's addresses are what each test says. */
function world(options: { names?: Record<string, string[]>; links?: Record<string, string>; own?: string[] } = {}) {
  const realpathCalls: string[] = [];
  const resolved: string[] = [];
  const context: SourcePolicyContext = {
    async resolve(host) {
      resolved.push(host);
      const addresses = options.names?.[host];
      if (!addresses) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
      return addresses;
    },
    async realpath(file) {
      realpathCalls.push(file);
      for (const [link, target] of Object.entries(options.links ?? {})) {
        if (file === link || file.startsWith(`${link}/`)) return target + file.slice(link.length);
      }
      if (file.includes('missing')) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
      return file;
    },
    async ownAddresses() {
      return options.own ?? ['127.0.0.1', '::1', '10.0.0.2'];
    },
  };
  return { context, realpathCalls, resolved };
}

const defaults = sourcePolicySchema.parse({});

async function verdict(url: string, policy = defaults, context = world().context): Promise<string> {
  try {
    await checkSource(url, policy, context);
    return 'allowed';
  } catch (error) {
    if (!isPosestreamError(error)) throw error;
    return `${error.code}: ${error.message}`;
  }
}

describe('source policy defaults (streams added through the REST API)', () => {
  const refusedAsLoopback = /^PS_SOURCE_FORBIDDEN: the host "[^"]+" is, or resolves to, a loopback address; .*sourcePolicy\.allowAddresses/;

  it.each([
    ['http://127.0.0.1:6379/', '127.0.0.1'],
    ['http://[::1]/', '::1'],
    ['http://localhost./', 'localhost.'],
    ['http://2130706433/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['rtsp://2130706433/stream', '127.0.0.1'],
    ['rtsp://0x7f.1:554/stream', '127.0.0.1'],
    ['rtsp://user:pw@LOCALHOST/x', 'localhost'],
    ['rtsp://[::ffff:127.0.0.1]/x', '::ffff:7f00:1'],
    ['http://cam.localhost/', 'cam.localhost'],
  ])('refuses %s as loopback (host %s)', async (url, host) => {
    const result = await verdict(url);
    expect(result).toMatch(refusedAsLoopback);
    expect(result).toContain(`"${host}"`);
  });

  it('refuses link-local (cloud metadata), unspecified, multicast and metadata addresses', async () => {
    expect(await verdict('rtsp://169.254.169.254/')).toMatch(/link-local address \(cloud metadata lives there\)/);
    expect(await verdict('http://[fe80::1]/')).toMatch(/link-local/);
    expect(await verdict('http://0.0.0.0:8080/')).toMatch(/unspecified address/);
    expect(await verdict('rtsp://[::]/')).toMatch(/unspecified address/);
    expect(await verdict('rtsp://239.1.2.3/')).toMatch(/multicast or broadcast/);
    expect(await verdict('http://[fd00:ec2::254]/latest/meta-data/')).toMatch(/cloud metadata address/);
  });

  it('refuses the deployment\'s own addresses (this host, Redis, the gateway) but keeps private LAN cameras', async () => {
    const { context } = world({ own: ['10.0.0.2', 'fe80::1%eth0'] });
    expect(await verdict('rtsp://10.0.0.2:554/x', defaults, context)).toMatch(/an address of this deployment/);
    expect(await verdict('rtsp://10.0.0.7:554/x', defaults, context)).toBe('allowed');
    expect(await verdict('rtsp://192.168.1.20/x', defaults, context)).toBe('allowed');
    expect(await verdict('rtsps://172.16.4.4/x', defaults, context)).toBe('allowed');
    expect(await verdict('https://[fd12:3456::7]/clip.mp4', defaults, context)).toBe('allowed');
  });

  it('resolves names and refuses when any address is forbidden, or when the name does not resolve', async () => {
    const { context, resolved } = world({
      names: { 'cam.example': ['192.168.1.20'], 'rebound.example': ['192.168.1.21', '127.0.0.1'], 'meta.example': ['169.254.169.254'] },
    });
    expect(await verdict('rtsp://admin:pw@cam.example/x', defaults, context)).toBe('allowed');
    expect(await verdict('rtsp://rebound.example/x', defaults, context)).toMatch(/"rebound\.example" is, or resolves to, a loopback address/);
    expect(await verdict('http://meta.example/latest', defaults, context)).toMatch(/link-local/);
    expect(await verdict('rtsp://nowhere.example/x', defaults, context)).toBe('PS_SOURCE_UNRESOLVABLE: the host "nowhere.example" does not resolve');
    // The name resolved is the canonical one (lower case), never a password.
    expect(resolved).toContain('cam.example');
    expect(await verdict('rtsp://CAM.Example/x', defaults, context)).toBe('allowed');
  });

  it('refuses local files, devices and test patterns, with reasons that say nothing about the filesystem', async () => {
    const { context, realpathCalls } = world();
    const existing = await verdict('file:///etc/passwd', defaults, context);
    const missing = await verdict('/etc/missing-file', defaults, context);
    expect(existing).toBe('PS_SOURCE_FORBIDDEN: local files are off for streams added through the API (the operator lists the directories they may come from in sourcePolicy.allowFilesUnder)');
    expect(await verdict('/etc/passwd', defaults, context)).toBe(existing);
    expect(missing).toBe(existing);
    expect(await verdict('/dev/video0', defaults, context)).toMatch(/^PS_SOURCE_FORBIDDEN: video devices are off .*sourcePolicy\.allowDevices: true/);
    expect(await verdict('v4l2:///dev/video0', defaults, context)).toMatch(/video devices are off/);
    expect(await verdict('test://ball', defaults, context)).toMatch(/^PS_SOURCE_FORBIDDEN: test patterns are off .*sourcePolicy\.allowTestPatterns: true/);
    expect(realpathCalls).toEqual([]);
  });
});

describe('source policy with operator settings', () => {
  const policy = sourcePolicySchema.parse({
    allowFilesUnder: ['/srv/videos/', '/media/clips'],
    allowDevices: true,
    allowTestPatterns: true,
    allowAddresses: ['127.0.0.1', '::1', '169.254.10.0/24'],
  });

  it('allows files under the allowed directories only, deciding on the normalised path before touching the disk', async () => {
    const { context, realpathCalls } = world();
    expect(await verdict('/srv/videos/lobby.mp4', policy, context)).toBe('allowed');
    expect(await verdict('file:///media/clips/a%20b.mp4', policy, context)).toBe('allowed');
    expect(await verdict('/srv/videos/missing.mp4', policy, context)).toBe('allowed');
    const outside = 'PS_SOURCE_FORBIDDEN: local files added through the API must be under a directory the operator allowed in sourcePolicy.allowFilesUnder';
    for (const url of [
      '/etc/passwd',
      '/srv/videos/../../etc/passwd',
      '/srv/videos-old/a.mp4',
      'file:///srv/videos/%2e%2e/%2e%2e/etc/passwd',
      'file:///srv/videos/..%2F..%2Fetc/passwd',
      '/srv/videos/../missing/x.mp4',
    ]) {
      const result = await verdict(url, policy, context);
      expect(result, url).toBe(url.includes('%2F') ? 'PS_SOURCE_FORBIDDEN: not a usable file URL: use file:///absolute/path' : outside);
    }
    expect(await verdict('videos/a.mp4', policy, context)).toBe('PS_SOURCE_FORBIDDEN: a local file added through the API must be an absolute path');
    expect(await verdict('file://fileserver/srv/videos/a.mp4', policy, context)).toMatch(/not a usable file URL/);
    // realpath only ever saw paths inside an allowed directory.
    expect(realpathCalls.filter((file) => !file.startsWith('/srv/videos/') && !file.startsWith('/media/clips') && file !== '/srv/videos')).toEqual([]);
  });

  it('follows symlinks only inside an allowed directory and refuses one that leads out, with the same message', async () => {
    const { context } = world({ links: { '/srv/videos/escape': '/etc', '/srv/videos/archive': '/mnt/nas/videos', '/srv/videos': '/srv/videos' } });
    const outside = await verdict('/etc/passwd', policy, context);
    expect(await verdict('/srv/videos/escape/passwd', policy, context)).toBe(outside);
    expect(await verdict('/srv/videos/archive/a.mp4', policy, context)).toBe(outside);
    const linkedRoot = world({ links: { '/srv/videos': '/mnt/nas/videos' } });
    expect(await verdict('/srv/videos/a.mp4', policy, linkedRoot.context)).toBe('allowed');
  });

  it('allows devices by their /dev/videoN path, test patterns, and listed addresses', async () => {
    expect(await verdict('/dev/video2', policy)).toBe('allowed');
    expect(await verdict('v4l2:///dev/video0', policy)).toBe('allowed');
    expect(await verdict('/dev/video0/../../etc/passwd', policy)).toMatch(/must be \/dev\/videoN/);
    expect(await verdict('v4l2:///dev/sda', policy)).toMatch(/must be \/dev\/videoN/);
    expect(await verdict('test://ball', policy)).toBe('allowed');
    expect(await verdict('rtsp://127.0.0.1:8554/cam', policy)).toBe('allowed');
    expect(await verdict('rtsp://localhost:8554/cam', policy)).toBe('allowed');
    expect(await verdict('http://169.254.10.7/', policy)).toBe('allowed');
    expect(await verdict('http://169.254.169.254/', policy)).toMatch(/link-local/);
  });

  it('validates the settings themselves', () => {
    expect(policy.allowFilesUnder).toEqual(['/srv/videos', '/media/clips']);
    expect(sourcePolicySchema.safeParse({ allowFilesUnder: ['videos'] }).success).toBe(false);
    expect(sourcePolicySchema.safeParse({ allowAddresses: ['10.0.0.0/33'] }).success).toBe(false);
    expect(sourcePolicySchema.safeParse({ allowAddresses: ['camera.local'] }).success).toBe(false);
    expect(sourcePolicySchema.safeParse({ allowAddresses: ['10.0.0.0/8', 'fe80::/10'] }).success).toBe(true);
    expect(sourcePolicySchema.safeParse({ allowFiles: true }).success).toBe(false);
  });
});

describe('helpers', () => {
  it('canonicalHost reads every IPv4 spelling the way getaddrinfo does', () => {
    expect(canonicalHost('2130706433')).toBe('127.0.0.1');
    expect(canonicalHost('0x7f.1')).toBe('127.0.0.1');
    expect(canonicalHost('017700000001')).toBe('127.0.0.1');
    expect(canonicalHost('%31%32%37.0.0.1')).toBe('127.0.0.1');
    expect(canonicalHost('[::1]')).toBe('::1');
    expect(canonicalHost('Cam.Example')).toBe('cam.example');
    expect(canonicalHost('bad host')).toBeUndefined();
  });

  it('isLoopbackAddress', () => {
    expect(isLoopbackAddress('127.8.9.1')).toBe(true);
    expect(isLoopbackAddress('[::1]')).toBe(true);
    expect(isLoopbackAddress('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('0.0.0.0')).toBe(false);
    expect(isLoopbackAddress('10.0.0.1')).toBe(false);
    expect(isLoopbackAddress('localhost')).toBe(false);
  });

  it('lexicalFilePath normalises without the disk', () => {
    expect(lexicalFilePath('/a/b/../c//d.mp4')).toBe('/a/c/d.mp4');
    expect(lexicalFilePath('file:///a/%2e%2e/b%20c.mp4')).toBe('/b c.mp4');
  });
});
