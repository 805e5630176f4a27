import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Route } from '../http.js';

/**
 * The dashboard: static files from gateway/public, with app.ts bundled by esbuild once at gateway start together
 * with pipeline/wire/v1.ts, pipeline/pose/skeleton.ts, pipeline/events/config.ts and the client library (client/),
 * so the browser speaks the same schema, palette and rule validation as the server. No CDN, no external fonts: it works on an isolated network.
 */

const publicDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'public');

export async function bundleDashboard(): Promise<string> {
  const result = await build({
    entryPoints: [path.join(publicDir, 'app.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

export async function dashboardRoutes(): Promise<Route[]> {
  const [html, css, js] = await Promise.all([
    readFile(path.join(publicDir, 'index.html')),
    readFile(path.join(publicDir, 'style.css')),
    bundleDashboard(),
  ]);
  const file = (pathname: RegExp, type: string, body: Buffer | string): Route => ({
    method: 'GET',
    path: pathname,
    // The shell carries no data; the page asks for the token and sends it with every call it makes.
    public: true,
    handle({ res }) {
      res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-cache' });
      res.end(body);
    },
  });
  return [
    file(/^\/(index\.html)?$/, 'text/html; charset=utf-8', html),
    file(/^\/style\.css$/, 'text/css; charset=utf-8', css),
    file(/^\/app\.js$/, 'text/javascript; charset=utf-8', js),
  ];
}
