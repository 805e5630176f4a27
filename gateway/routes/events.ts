import { compareEntryIds } from '../../pipeline/redis/codec.js';
import { streamIdOfEventId, type PoseEventEntry, type PoseEventReader } from '../../pipeline/redis/event-stream.js';
import { POSE_EVENT_TYPES } from '../../pipeline/wire/v1.js';
import { HttpError, sendJson, type Route } from '../http.js';
import type { StreamCatalog } from '../stream-catalog.js';

/**
 * Pose events over REST: what Redis retains (keys.poseEvents, kept by age).
 *
 * `GET /api/events?stream=a,b&type=fall,recovered&since=...&limit=100` lists events oldest first: those after
 * `since` (an entry id from a previous reply's `next`, a time in ms since the epoch, or an ISO date), or else the
 * newest `limit`. Without `stream`, every registered stream, merged in publish order. `next` continues the listing.
 * `GET /api/events/:id/snapshot.jpg` is the annotated JPEG of an event's decisive frame, while retained.
 */

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
/** The largest sequence part of an entry id: "after <ms - 1>-MAX" means "from <ms> on". */
const MAX_ENTRY_SEQ = '18446744073709551615';

function badQuery(message: string): HttpError {
  return new HttpError(400, 'PS_EVENTS_BAD_QUERY', message);
}

function list(value: string | null): string[] | undefined {
  if (value === null || value.trim() === '') return undefined;
  return value.split(',').map((part) => part.trim()).filter(Boolean);
}

/** `since` as an exclusive entry id. */
export function sinceToAfterId(since: string): string {
  if (/^\d+-\d+$/.test(since)) return since;
  const ms = /^\d+$/.test(since) ? Number(since) : Date.parse(since);
  if (!Number.isSafeInteger(ms) || ms < 0) throw badQuery(`since: expected an entry id, ms since the epoch or an ISO date, got "${since.slice(0, 40)}"`);
  return ms === 0 ? '0-0' : `${ms - 1}-${MAX_ENTRY_SEQ}`;
}

function parseLimit(value: string | null): number {
  if (value === null) return DEFAULT_LIMIT;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw badQuery(`limit: expected an integer 1..${MAX_LIMIT}, got "${value.slice(0, 20)}"`);
  return limit;
}

function parseTypes(value: string | null): Set<string> | undefined {
  const types = list(value);
  if (!types) return undefined;
  const unknown = types.filter((type) => !(POSE_EVENT_TYPES as readonly string[]).includes(type));
  if (unknown.length > 0) throw badQuery(`type: unknown event type(s) ${unknown.map((t) => `"${t.slice(0, 30)}"`).join(', ')} (one of ${POSE_EVENT_TYPES.join(', ')})`);
  return new Set(types);
}

export function eventRoutes(deps: { catalog: StreamCatalog; events: PoseEventReader }): Route[] {
  const { catalog, events } = deps;
  return [
    {
      method: 'GET',
      path: /^\/api\/events$/,
      async handle({ res, url }) {
        const query = url.searchParams;
        const streams = list(query.get('stream')) ?? catalog.ids();
        const unknown = streams.filter((id) => !catalog.has(id));
        if (unknown.length > 0) throw new HttpError(404, 'PS_STREAM_NOT_FOUND', `no stream with id ${unknown.map((id) => `"${id.slice(0, 64)}"`).join(', ')}`);
        const limit = parseLimit(query.get('limit'));
        const types = parseTypes(query.get('type'));
        const since = query.get('since');
        const afterId = since === null ? undefined : sinceToAfterId(since);
        const pages = await Promise.all(streams.map((id) => events.query(id, { limit, ...(afterId === undefined ? {} : { afterId }), ...(types ? { types } : {}) })));
        const merged: PoseEventEntry[] = pages.flatMap((page) => page.events).sort((a, b) => compareEntryIds(a.entryId, b.entryId));
        const chosen = afterId === undefined ? merged.slice(-limit) : merged.slice(0, limit);
        // Where to continue: after the last event returned; for one stream whose type-filtered scan stopped short
        // (QUERY_SCAN_LIMIT entries looked at), after the last entry it looked at.
        const last = chosen.at(-1)?.entryId;
        const next = chosen.length < limit && pages.length === 1 ? (pages[0]!.next ?? last ?? afterId ?? null) : (last ?? afterId ?? null);
        sendJson(res, 200, { events: chosen.map((entry) => entry.event), next });
      },
    },
    {
      method: 'GET',
      path: /^\/api\/events\/(?<id>[^/]+)\/snapshot\.jpg$/,
      async handle({ res, params }) {
        const eventId = params.id!;
        const streamId = streamIdOfEventId(eventId);
        if (streamId === undefined) throw new HttpError(404, 'PS_EVENT_NOT_FOUND', 'not an event id');
        const jpeg = await events.snapshot(streamId, eventId);
        if (!jpeg) throw new HttpError(404, 'PS_EVENT_NOT_FOUND', `no snapshot for event "${eventId.slice(0, 256)}" (the event has none, or it expired)`);
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length, 'cache-control': 'private, max-age=3600' });
        res.end(jpeg);
      },
    },
  ];
}
