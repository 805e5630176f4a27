import { BlockList, isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { PosestreamError } from '../errors.js';

/**
 * What a stream registered through the REST API (registry origin 'api') may open. Streams of the config file are
 * written by the operator and may open anything; a REST client may only name network cameras, unless the operator
 * opens more here. Decided twice: by the gateway when the stream is registered, and by the ingest right before each
 * (re)open, because a DNS name can point somewhere else by then.
 *
 * Pure: name resolution, realpath and the deployment's own addresses come in through SourcePolicyContext, so every
 * rule is unit-tested without a network or a filesystem. Files are decided on the normalised path before anything
 * touches the disk, and every refusal of a file reads the same whether or not it exists (no existence probing).
 */

export const SOURCE_FORBIDDEN = 'PS_SOURCE_FORBIDDEN';
export const SOURCE_UNRESOLVABLE = 'PS_SOURCE_UNRESOLVABLE';

type Family = 'ipv4' | 'ipv6';

/** `a.b.c.d`, `::1`, or either with a `/prefix`. */
function parseCidr(text: string): { address: string; prefix: number; family: Family } | undefined {
  const [address = '', prefixText, extra] = text.split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d+$/.test(prefixText))) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

function blockListOf(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const text of cidrs) {
    const cidr = parseCidr(text);
    if (cidr) list.addSubnet(cidr.address, cidr.prefix, cidr.family);
  }
  return list;
}

/** Directories are compared after normalisation, without a trailing slash ('/' stays '/'). */
const absoluteDirectory = z
  .string()
  .refine((dir) => path.posix.isAbsolute(dir) && !dir.includes('\0'), 'must be an absolute directory path')
  .transform((dir) => path.posix.normalize(dir).replace(/(.)\/+$/, '$1'));

export const sourcePolicySchema = z
  .object({
    /** Directories whose files (at any depth) REST streams may play; none by default. */
    allowFilesUnder: z.array(absoluteDirectory).default([]),
    /** V4L2 devices (/dev/videoN, v4l2:///dev/videoN) from REST. */
    allowDevices: z.boolean().default(false),
    /** test://<pattern> sources from REST. */
    allowTestPatterns: z.boolean().default(false),
    /**
     * Addresses or CIDR ranges that REST streams may reach although they are refused by default (loopback,
     * link-local, unspecified, multicast, cloud metadata, this deployment's own hosts), e.g. ["127.0.0.1"] for an
     * RTSP server on the gateway's machine. Private LAN ranges need no entry: cameras live there.
     */
    allowAddresses: z.array(z.string().refine((text) => parseCidr(text) !== undefined, 'must be an IP address or CIDR range (10.0.0.0/8, ::1)')).default([]),
  })
  .strict();

export type SourcePolicy = z.infer<typeof sourcePolicySchema>;

/** Address ranges a REST stream may never reach unless allowAddresses lists them, by what they are. */
const FORBIDDEN_RANGES: ReadonlyArray<{ kind: string; list: BlockList }> = [
  { kind: 'a loopback address', list: blockListOf(['127.0.0.0/8', '::1/128']) },
  // Connecting to 0.0.0.0 reaches this host on Linux.
  { kind: 'an unspecified address', list: blockListOf(['0.0.0.0/8', '::/128']) },
  // 169.254.169.254 is the cloud metadata service (credentials) on AWS, GCP, Azure and others.
  { kind: 'a link-local address (cloud metadata lives there)', list: blockListOf(['169.254.0.0/16', 'fe80::/10']) },
  { kind: 'a multicast or broadcast address', list: blockListOf(['224.0.0.0/4', 'ff00::/8', '255.255.255.255/32']) },
  // Metadata services outside link-local: AWS over IPv6, Alibaba Cloud.
  { kind: 'a cloud metadata address', list: blockListOf(['fd00:ec2::254/128', '100.100.100.200/32']) },
];

const LOOPBACK = FORBIDDEN_RANGES[0]!.list;

function familyOf(address: string): Family | undefined {
  const version = isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : undefined;
}

/** IPv6 zone ids (`fe80::1%eth0`) do not change what the address is. */
const withoutZone = (address: string) => address.replace(/%.*$/, '');

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms (the gateway's binding rule uses this too). */
export function isLoopbackAddress(address: string): boolean {
  const bare = withoutZone(address.replace(/^\[|\]$/g, ''));
  const family = familyOf(bare);
  return family !== undefined && LOOPBACK.check(bare, family);
}

/** RFC 6761: `localhost` and every name under it are loopback, whatever a resolver says. */
export function isLocalhostName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/**
 * The host as a resolver reads it. rtsp:// is not a "special" URL scheme, so `new URL` leaves its host as written;
 * the http parser turns every IPv4 spelling getaddrinfo accepts (2130706433, 0x7f.1, 127.1, octal) into dotted
 * form, decodes percent-escapes and lower-cases names. IPv6 literals lose their brackets.
 */
export function canonicalHost(hostname: string): string | undefined {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (bare === '') return undefined;
  try {
    return new URL(`http://${isIP(bare) === 6 ? `[${bare}]` : bare}/`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}

export interface SourcePolicyContext {
  /** Every address a name resolves to, the way GStreamer will resolve it (getaddrinfo); rejects if it does not. */
  resolve(host: string): Promise<string[]>;
  /** fs.realpath. Only ever called for a path that is already inside an allowed directory. */
  realpath(file: string): Promise<string>;
  /** This deployment's own addresses: this host's interfaces, Redis, the gateway's bind address. */
  ownAddresses(): Promise<string[]>;
}

function forbidden(reason: string): PosestreamError {
  return new PosestreamError(SOURCE_FORBIDDEN, reason);
}

export type PolicySourceKind = 'network' | 'file' | 'device' | 'test';

/** The same split as the ingest's launch strings: scheme://..., /dev/video*, or else a file path. */
export function policySourceKind(url: string): PolicySourceKind | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return url.startsWith('/dev/video') ? 'device' : 'file';
  if (['rtsp', 'rtsps', 'http', 'https'].includes(scheme)) return 'network';
  if (scheme === 'file') return 'file';
  if (scheme === 'v4l2') return 'device';
  if (scheme === 'test') return 'test';
  return undefined;
}

/**
 * Refuses with PS_SOURCE_FORBIDDEN (or PS_SOURCE_UNRESOLVABLE for a name that does not resolve) when a REST stream
 * may not open `url`; resolves otherwise. `url` has passed the stream schema already.
 */
export async function checkSource(url: string, policy: SourcePolicy, context: SourcePolicyContext): Promise<void> {
  switch (policySourceKind(url)) {
    case 'network':
      return checkNetworkSource(url, policy, context);
    case 'file':
      return checkFileSource(url, policy, context);
    case 'device':
      return checkDevice(url, policy);
    case 'test':
      if (!policy.allowTestPatterns) throw forbidden('test patterns are off for streams added through the API (the operator can set sourcePolicy.allowTestPatterns: true)');
      return;
    default:
      throw forbidden('this kind of source cannot be added through the API');
  }
}

function checkDevice(url: string, policy: SourcePolicy): void {
  if (!policy.allowDevices) throw forbidden('video devices are off for streams added through the API (the operator can set sourcePolicy.allowDevices: true)');
  let device = url;
  if (url.toLowerCase().startsWith('v4l2:')) {
    const parsed = new URL(url);
    device = parsed.host === '' ? decodeURIComponent(parsed.pathname) : '';
  }
  if (!/^\/dev\/video\d{1,3}$/.test(device)) throw forbidden('a video device must be /dev/videoN or v4l2:///dev/videoN');
}

const FILES_OFF = 'local files are off for streams added through the API (the operator lists the directories they may come from in sourcePolicy.allowFilesUnder)';
const FILE_OUTSIDE = 'local files added through the API must be under a directory the operator allowed in sourcePolicy.allowFilesUnder';

/** The absolute, normalised path a file source names, decided on the text alone. */
export function lexicalFilePath(url: string): string {
  let file = url;
  if (/^file:/i.test(url)) {
    try {
      // Rejects hosts other than localhost and encoded slashes (%2F), decodes the rest.
      file = fileURLToPath(url);
    } catch {
      throw forbidden('not a usable file URL: use file:///absolute/path');
    }
  }
  if (!path.posix.isAbsolute(file) || file.includes('\0')) throw forbidden('a local file added through the API must be an absolute path');
  return path.posix.normalize(file);
}

const isInside = (file: string, dir: string) => file === dir || file.startsWith(dir === '/' ? '/' : `${dir}/`);

async function checkFileSource(url: string, policy: SourcePolicy, context: SourcePolicyContext): Promise<void> {
  if (policy.allowFilesUnder.length === 0) throw forbidden(FILES_OFF);
  const file = lexicalFilePath(url);
  if (!policy.allowFilesUnder.some((dir) => isInside(file, dir))) throw forbidden(FILE_OUTSIDE);
  // Inside an allowed directory on paper; a symlink in there must not lead out of it. A path that cannot be
  // resolved (missing, no permission) is left to the ingest, which checks again before opening it.
  const real = await context.realpath(file).catch(() => undefined);
  if (real === undefined) return;
  const roots = await Promise.all(policy.allowFilesUnder.map(async (dir) => [dir, await context.realpath(dir).catch(() => dir)]));
  if (!roots.flat().some((dir) => isInside(real, dir))) throw forbidden(FILE_OUTSIDE);
}

async function checkNetworkSource(url: string, policy: SourcePolicy, context: SourcePolicyContext): Promise<void> {
  const host = canonicalHost(new URL(url).hostname);
  if (host === undefined) throw forbidden('the URL has no usable host');
  const allowed = blockListOf(policy.allowAddresses);
  const refuse = (what: string) =>
    forbidden(`the host "${host}" is, or resolves to, ${what}; streams added through the API may not reach it unless the operator lists it in sourcePolicy.allowAddresses`);
  let addresses: string[];
  if (isLocalhostName(host)) {
    addresses = ['127.0.0.1', '::1'];
  } else if (isIP(host) !== 0) {
    addresses = [host];
  } else {
    addresses = await context.resolve(host).catch(() => []);
    if (addresses.length === 0) throw new PosestreamError(SOURCE_UNRESOLVABLE, `the host "${host}" does not resolve`);
  }
  const own = await context.ownAddresses();
  const ownList = blockListOf(own.map(withoutZone).filter((address) => isIP(address) !== 0));
  for (const raw of addresses) {
    const address = withoutZone(raw);
    const family = familyOf(address);
    if (family === undefined) throw refuse('an address that is not an IP address');
    if (allowed.check(address, family)) continue;
    const range = FORBIDDEN_RANGES.find(({ list }) => list.check(address, family));
    if (range) throw refuse(range.kind);
    if (ownList.check(address, family)) throw refuse('an address of this deployment (a host running posestream, or Redis)');
  }
}
