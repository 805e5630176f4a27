import type { Metrics } from '../../pipeline/obs/metrics.js';
import { HttpError, type Route } from '../http.js';
import type { HttpFrameViewers } from '../http-frame-viewers.js';
import type { StreamCatalog } from '../stream-catalog.js';

/**
 * Annotated video without JavaScript: `GET /streams/:id/mjpeg` (multipart/x-mixed-replace, works in an <img>) and
 * `GET /streams/:id/snapshot.jpg`. A viewer whose connection cannot keep up skips frames (the socket's own buffer
 * is the only queue: a frame is written only when the previous one has drained).
 */

const BOUNDARY = 'posestreamframe';
const SNAPSHOT_WAIT_MS = 5_000;
/** A kept frame younger than this is served as the snapshot without waiting for a new one. */
const SNAPSHOT_FRESH_MS = 2_000;

function knownStream(catalog: StreamCatalog, id: string): void {
  if (!catalog.has(id)) throw new HttpError(404, 'PS_STREAM_NOT_FOUND', `no stream with id "${id}"`);
}

function whyNoFrame(catalog: StreamCatalog, id: string): string {
  const state = catalog.state(id);
  if (state && state.state !== 'running') {
    return `stream "${id}" is ${state.state}${state.reason ? `: ${state.reason}` : ''}`;
  }
  return `no frame from stream "${id}" within ${SNAPSHOT_WAIT_MS / 1000} s (is an inference worker running?)`;
}

export function mjpegRoutes(deps: { catalog: StreamCatalog; viewers: HttpFrameViewers; metrics: Metrics }): Route[] {
  const { catalog, viewers, metrics } = deps;
  return [
    {
      method: 'GET',
      path: /^\/streams\/(?<id>[^/]+)\/mjpeg$/,
      handle({ req, res, params }) {
        const id = params.id!;
        knownStream(catalog, id);
        res.writeHead(200, {
          'content-type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
          'cache-control': 'no-store',
          connection: 'close',
        });
        const stop = viewers.watch(id, (frame) => {
          if (res.writableNeedDrain) {
            metrics.wsDropped.inc({ channel: 'mjpeg' });
            return;
          }
          res.write(`--${BOUNDARY}\r\ncontent-type: image/jpeg\r\ncontent-length: ${frame.jpeg.length}\r\n\r\n`);
          res.write(frame.jpeg);
          res.write('\r\n');
        });
        req.on('close', stop);
        res.on('close', stop);
      },
    },
    {
      method: 'GET',
      path: /^\/streams\/(?<id>[^/]+)\/snapshot\.jpg$/,
      async handle({ res, params }) {
        const id = params.id!;
        knownStream(catalog, id);
        const kept = viewers.latest(id);
        const frame = kept && Date.now() - kept.at < SNAPSHOT_FRESH_MS ? kept : await viewers.next(id, SNAPSHOT_WAIT_MS);
        if (!frame) throw new HttpError(503, 'PS_STREAM_NO_FRAME', whyNoFrame(catalog, id));
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': frame.jpeg.length, 'cache-control': 'no-store', 'x-posestream-seq': String(frame.seq) });
        res.end(frame.jpeg);
      },
    },
  ];
}
