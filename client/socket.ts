/**
 * The WebSocket the client runs on: the browser's own, or the `ws` package in Node (Node 20 has no global
 * WebSocket; where a runtime has both, `ws` is used in Node because it can send the token as a header, which keeps it
 * out of URLs and access logs). Both are driven through the same small surface.
 */

export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: { message?: string }) => void) | null;
}

/** Opens a socket to `url` (ws:// or wss://, the /ws path included) with the token, when there is one. */
export type SocketFactory = (url: string, token: string | undefined) => Promise<SocketLike>;

const OPEN = 1;
export const SOCKET_OPEN = OPEN;

function runsOnNode(): boolean {
  const processLike = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof processLike?.versions?.node === 'string';
}

/** The browser's WebSocket, token as ?token= (browsers cannot set headers on a WebSocket). */
export const browserSocket: SocketFactory = async (url, token) => {
  const Native = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket;
  if (!Native) throw new Error('no WebSocket implementation: pass `WebSocket` in the options');
  const target = new URL(url);
  if (token) target.searchParams.set('token', token);
  return new Native(target.toString());
};

/** The `ws` package, token as `Authorization: Bearer` (loaded only here: browsers never load it). */
export const nodeSocket: SocketFactory = async (url, token) => {
  const { WebSocket } = await import('ws');
  return new WebSocket(url, { headers: token ? { authorization: `Bearer ${token}` } : {} }) as unknown as SocketLike;
};

export function defaultSocketFactory(): SocketFactory {
  return runsOnNode() ? nodeSocket : browserSocket;
}

/** ws://host:port/ws from what a user is likely to pass: http(s):// or ws(s)://, with or without the /ws path. */
export function websocketUrl(address: string, base?: string): string {
  const url = new URL(address, base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error(`unsupported gateway address scheme "${url.protocol}" (use ws://, wss://, http:// or https://)`);
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/ws';
  return url.toString();
}
