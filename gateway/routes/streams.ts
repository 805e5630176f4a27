import type { z } from 'zod';
import { isPosestreamError } from '../../pipeline/errors.js';
import { redactUrl } from '../../pipeline/obs/redact.js';
import { streamPatchSchema, streamSchema, type StreamConfig } from '../../pipeline/streams/definition.js';
import { SOURCE_FORBIDDEN, SOURCE_UNRESOLVABLE } from '../../pipeline/streams/source-policy.js';
import { describeZodIssues } from '../../pipeline/zod-issues.js';
import type { StreamRegistry } from '../../pipeline/streams/registry.js';
import { HttpError, readJsonBody, sendJson, type Route } from '../http.js';
import type { StreamCatalog } from '../stream-catalog.js';
import type { StreamStats } from '../stream-stats.js';

/**
 * REST for streams. The registry (Redis) is the store, so a stream added here survives a gateway restart and the
 * ingest processes pick it up from the registry's events; the body is the same object as a `streams:` entry of the
 * config and is validated by the same schema, with one entry per offending field in the 400 reply. A stream added
 * here has origin 'api': its source must pass the source policy (403 PS_SOURCE_FORBIDDEN, or 400
 * PS_SOURCE_UNRESOLVABLE for a name that does not resolve), which the ingest applies again before opening it.
 * `registry` sits on the gateway's fail-fast Redis connection (a Redis outage is a prompt 503, see main.ts).
 */

const STATUS_BY_CODE: Record<string, number> = {
  PS_STREAM_EXISTS: 409,
  PS_STREAM_INVALID: 400,
  PS_STREAM_NOT_FOUND: 404,
  [SOURCE_FORBIDDEN]: 403,
  [SOURCE_UNRESOLVABLE]: 400,
};

function invalid(error: z.ZodError, what: string): HttpError {
  const fields = describeZodIssues(error, '(body)');
  return new HttpError(400, 'PS_STREAM_INVALID', `invalid ${what}: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`, fields);
}

/** Registry and source-policy errors keep their PS_* code and get the matching HTTP status. */
function fromRegistry(error: unknown): never {
  if (isPosestreamError(error) && STATUS_BY_CODE[error.code]) {
    const fields = error.code === SOURCE_FORBIDDEN || error.code === SOURCE_UNRESOLVABLE ? [{ path: 'url', message: error.publicMessage }] : undefined;
    throw new HttpError(STATUS_BY_CODE[error.code]!, error.code, fields ? `url: ${error.publicMessage}` : error.publicMessage, fields);
  }
  throw error;
}

export interface StreamRouteDeps {
  registry: StreamRegistry;
  catalog: StreamCatalog;
  stats: StreamStats;
  /** Rejects with PS_SOURCE_FORBIDDEN / PS_SOURCE_UNRESOLVABLE when a REST stream may not open the URL. */
  checkSource: (url: string) => Promise<void>;
}

export function streamRoutes(deps: StreamRouteDeps): Route[] {
  const { registry, catalog, stats, checkSource } = deps;
  const view = (stream: StreamConfig) => ({
    ...stream,
    url: redactUrl(stream.url),
    state: catalog.state(stream.id) ?? null,
    stats: stats.snapshot(stream.id),
  });
  return [
    {
      method: 'GET',
      path: /^\/api\/streams$/,
      async handle({ res }) {
        // Entries this version cannot read are listed by id and problem, so nobody wonders where a stream went.
        const { streams, unreadable } = await registry.snapshot();
        sendJson(res, 200, { streams: streams.map(view), unreadable });
      },
    },
    {
      method: 'GET',
      path: /^\/api\/streams\/(?<id>[^/]+)$/,
      async handle({ res, params }) {
        const stream = await registry.get(params.id!);
        if (!stream) throw new HttpError(404, 'PS_STREAM_NOT_FOUND', `no stream with id "${params.id}"`);
        sendJson(res, 200, view(stream));
      },
    },
    {
      method: 'POST',
      path: /^\/api\/streams$/,
      async handle({ req, res }) {
        const parsed = streamSchema.safeParse(await readJsonBody(req));
        if (!parsed.success) throw invalid(parsed.error, 'stream');
        await checkSource(parsed.data.url).catch(fromRegistry);
        const stream = await registry.add(parsed.data).catch(fromRegistry);
        await catalog.refresh(registry);
        sendJson(res, 201, view(stream));
      },
    },
    {
      method: 'PATCH',
      path: /^\/api\/streams\/(?<id>[^/]+)$/,
      async handle({ req, res, params }) {
        const parsed = streamPatchSchema.safeParse(await readJsonBody(req));
        if (!parsed.success) throw invalid(parsed.error, 'stream change');
        if (!(await registry.get(params.id!))) throw new HttpError(404, 'PS_STREAM_NOT_FOUND', `no stream with id "${params.id}"`);
        const stream = await registry.update(params.id!, parsed.data).catch(fromRegistry);
        await catalog.refresh(registry);
        sendJson(res, 200, view(stream));
      },
    },
    {
      method: 'DELETE',
      path: /^\/api\/streams\/(?<id>[^/]+)$/,
      async handle({ res, params }) {
        const removed = await registry.remove(params.id!);
        if (!removed) throw new HttpError(404, 'PS_STREAM_NOT_FOUND', `no stream with id "${params.id}"`);
        await catalog.refresh(registry);
        stats.forget(params.id!);
        sendJson(res, 200, { removed: params.id });
      },
    },
  ];
}
