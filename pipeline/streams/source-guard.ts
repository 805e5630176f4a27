import { lookup } from 'node:dns/promises';
import { realpath } from 'node:fs/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { checkSource, type SourcePolicy, type SourcePolicyContext } from './source-policy.js';

/**
 * The source policy (source-policy.ts) with the real world plugged in: getaddrinfo (what GStreamer uses), realpath,
 * and this deployment's addresses (this host's interfaces, Redis's host, the gateway's bind address), looked up on
 * every check because containers and DHCP move them.
 */

/** A name that takes longer than this to resolve is refused as unresolvable (REST must answer promptly). */
export const RESOLVE_TIMEOUT_MS = 3_000;

async function resolveAll(host: string): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`resolving ${host} took over ${RESOLVE_TIMEOUT_MS} ms`)), RESOLVE_TIMEOUT_MS);
  });
  try {
    const answers = await Promise.race([lookup(host, { all: true, verbatim: true }), timeout]);
    return answers.map((answer) => answer.address);
  } finally {
    clearTimeout(timer);
  }
}

function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((entries) => (entries ?? []).map((entry) => entry.address));
}

async function addressesOf(host: string): Promise<string[]> {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === '' || bare === '0.0.0.0' || bare === '::') return [];
  return isIP(bare) !== 0 ? [bare] : resolveAll(bare).catch(() => []);
}

export interface SourceGuardOptions {
  policy: SourcePolicy;
  redisUrl: string;
  gatewayHost: string;
}

export function sourcePolicyContext(options: Omit<SourceGuardOptions, 'policy'>): SourcePolicyContext {
  return {
    resolve: resolveAll,
    realpath: (file) => realpath(file),
    async ownAddresses() {
      const [redis, gateway] = await Promise.all([addressesOf(new URL(options.redisUrl).hostname), addressesOf(options.gatewayHost)]);
      return [...interfaceAddresses(), ...redis, ...gateway];
    },
  };
}

/** check(url) rejects with PS_SOURCE_FORBIDDEN / PS_SOURCE_UNRESOLVABLE when a REST stream may not open url. */
export function createSourceGuard(options: SourceGuardOptions): { check(url: string): Promise<void> } {
  const context = sourcePolicyContext(options);
  return { check: (url) => checkSource(url, options.policy, context) };
}
