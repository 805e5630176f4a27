import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from '../pipeline/obs/logger.js';
import type { Metrics } from '../pipeline/obs/metrics.js';
import { HttpError, requestToken, sendError, tokenMatches, type Route } from './http.js';
import { redisUnavailable } from './redis-unavailable.js';
import type { Hub } from './ws/hub.js';

/**
 * node:http server: a table of routes, JSON errors, and the WebSocket upgrade at /ws with token and origin checks
 * done before the handshake (a rejected client gets a plain 401/403 and never reaches the hub).
 */

export interface GatewayServerOptions {
  routes: Route[];
  hub: Hub;
  token?: string;
  allowedOrigins: string[];
  logger: Logger;
  metrics: Metrics;
  /** The REST Redis connection's command timeout, named in 503 PS_REDIS_UNAVAILABLE replies. */
  redisTimeoutMs: number;
}

/**
 * ws closes a connection whose message exceeds this; smaller messages over MAX_CLIENT_MESSAGE_BYTES reach the hub,
 * which answers with a PS_WS_TOO_BIG error and keeps the connection.
 */
const WS_HARD_MAX_PAYLOAD = 1024 * 1024;

function rejectUpgrade(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  const reason = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Not Found';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** A path segment as the route sees it; a malformed percent-escape is the client's mistake (400), not ours. */
function decodePathParam(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'PS_HTTP_BAD_PATH', `the ${name} in the path is not valid percent-encoding`);
  }
}

export function createGatewayServer(options: GatewayServerOptions): Server {
  const { routes, logger, metrics } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_HARD_MAX_PAYLOAD, perMessageDeflate: false });

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const pathMatches = routes.filter((route) => route.path.test(url.pathname));
    const route = pathMatches.find((candidate) => candidate.method === req.method || (req.method === 'HEAD' && candidate.method === 'GET'));
    const run = async (): Promise<void> => {
      if (!route) {
        if (pathMatches.length > 0) {
          res.setHeader('allow', [...new Set(pathMatches.map((r) => r.method))].join(', '));
          throw new HttpError(405, 'PS_HTTP_METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname}`);
        }
        throw new HttpError(404, 'PS_HTTP_NOT_FOUND', `nothing at ${url.pathname}`);
      }
      if (!route.public && !tokenMatches(options.token, requestToken(req, url))) {
        throw new HttpError(401, 'PS_AUTH_REQUIRED', 'this call needs the gateway token (Authorization: Bearer <token> or ?token=)');
      }
      const params = { ...(route.path.exec(url.pathname)?.groups ?? {}) };
      for (const [key, value] of Object.entries(params)) params[key] = decodePathParam(key, value);
      await route.handle({ req, res, url, params });
    };
    run().catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof HttpError) {
        sendError(res, error);
        return;
      }
      const unavailable = redisUnavailable(error, options.redisTimeoutMs);
      if (unavailable) {
        res.setHeader('retry-after', '2');
        sendError(res, unavailable);
        return;
      }
      logger.error({ err: error, method: req.method, path: url.pathname }, 'request failed');
      sendError(res, new HttpError(500, 'PS_HTTP_INTERNAL', 'internal error; see the gateway log'));
    });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname !== '/ws') {
      rejectUpgrade(socket, 404, 'PS_HTTP_NOT_FOUND', `no WebSocket endpoint at ${url.pathname}; use /ws`);
      return;
    }
    const origin = req.headers.origin;
    // Non-browser clients send no Origin; the allow-list is about which web pages may connect.
    if (origin && options.allowedOrigins.length > 0 && !options.allowedOrigins.includes(origin)) {
      metrics.wsRejected.inc({ reason: 'origin' });
      rejectUpgrade(socket, 403, 'PS_WS_ORIGIN_FORBIDDEN', `origin ${origin} is not in gateway.allowedOrigins`);
      return;
    }
    if (!tokenMatches(options.token, requestToken(req, url))) {
      metrics.wsRejected.inc({ reason: 'token' });
      rejectUpgrade(socket, 401, 'PS_AUTH_REQUIRED', 'missing or wrong token (Authorization: Bearer <token> or ?token=)');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => options.hub.attach(ws, req));
  });

  server.on('close', () => wss.close());
  return server;
}
