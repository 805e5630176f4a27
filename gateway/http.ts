import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Small HTTP helpers shared by the routes: JSON replies with one error shape
 * `{ error: { code, message, fields? } }`, size-limited JSON bodies, and token checks.
 */

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: Array<{ path: string; message: string }>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
}

export interface Route {
  method: string;
  /** Named groups become params, e.g. /^\/api\/streams\/(?<id>[^/]+)$/ */
  path: RegExp;
  /**
   * Served without the token. Everything else needs it when gateway.token is set, reads included: stream URLs,
   * states, video and metrics describe a site's cameras. Only /healthz, /readyz and the dashboard's static files
   * (which ask for the token) are public.
   */
  public?: boolean;
  handle(context: RouteContext): Promise<void> | void;
}

export const MAX_JSON_BODY_BYTES = 64 * 1024;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

export function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, { error: { code: error.code, message: error.message, ...(error.fields ? { fields: error.fields } : {}) } });
}

export async function readJsonBody(req: IncomingMessage, limit = MAX_JSON_BODY_BYTES): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new HttpError(415, 'PS_HTTP_UNSUPPORTED_MEDIA_TYPE', `expected content-type application/json, got "${type || '(none)'}"`);
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) throw new HttpError(413, 'PS_HTTP_BODY_TOO_LARGE', `body of ${declared} bytes exceeds the limit of ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, 'PS_HTTP_BODY_TOO_LARGE', `body exceeds the limit of ${limit} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new HttpError(400, 'PS_HTTP_BAD_JSON', `body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Bearer header first, then ?token= (browsers cannot set headers on WebSocket or <img> requests). */
export function requestToken(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
  return match?.[1]?.trim() ?? url.searchParams.get('token') ?? undefined;
}

export function tokenMatches(expected: string | undefined, given: string | undefined): boolean {
  if (expected === undefined) return true;
  if (given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
