import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { defaultModelPaths, repoRoot } from '../../pipeline/assets.js';
import { trackColor } from '../../gateway/public/overlay.js';
import { KEYPOINT_PALETTE, LIMB_COLORS } from '../../pipeline/pose/skeleton.js';
import { assetPath, skipWithout } from '../support/assets.js';
import { stopChild } from '../support/child-process.js';
import { freePort, testArtifactsDir, testRedisUrl } from '../support/env.js';
import { waitUntil } from '../support/wait.js';

/**
 * The whole product as a user meets it: `posestream run` (ingest + worker + gateway in one child process) on a
 * looping shared video, with a gateway token, and the dashboard in Debian's headless Chromium. The page asks for the
 * token once, then must show the stream with skeleton pixels (the COCO palette) drawn inside the boxes of the
 * people in the result for the frame on screen. The screenshot is kept at build/test-artifacts/dashboard.png.
 */

const DB = 45;
const STREAM = 'walking';
const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'dashboard-token-0123';
const withToken = { headers: { authorization: `Bearer ${TOKEN}` } };


interface DrawnFrame { seq: number; withOverlay: boolean; persons: Array<{ box: [number, number, number, number]; trackId?: number }>; sourceWidth: number; sourceHeight: number }

const missing = skipWithout('walkingVideo') || !existsSync(defaultModelPaths.fp32) || !existsSync(CHROMIUM);

describe.skipIf(missing)('dashboard in headless Chromium against posestream run', () => {
  let child: ChildProcess;
  let output = '';
  let browser: Browser;
  let page: Page;
  let baseUrl = '';
  let configFile = '';

  /** `posestream run` on the test config; resolves once the stream has results. */
  async function startRun(): Promise<void> {
    output = '';
    child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'posestream.cjs'), 'run', '--config', configFile], {
      cwd: repoRoot,
      env: { ...process.env, POSESTREAM_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitUntil(
      async () => {
        const body = (await fetch(`${baseUrl}/api/streams`, withToken).then((r) => r.json())) as { streams: Array<{ id: string; stats: { fps: number } }> };
        return body.streams.find((s) => s.id === STREAM && s.stats.fps > 0);
      },
      90_000,
      `results from stream ${STREAM} (posestream run output:\n${output})`,
    );
  }

  beforeAll(async () => {
    const redis = new Redis(testRedisUrl(DB));
    await redis.flushdb();
    redis.disconnect();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const dir = mkdtempSync(path.join(tmpdir(), 'posestream-e2e-'));
    configFile = path.join(dir, 'posestream.yaml');
    writeFileSync(
      configFile,
      stringify({
        redis: { url: testRedisUrl(DB) },
        model: { path: defaultModelPaths.fp32, cacheDir: path.join(repoRoot, 'build', 'ov-cache') },
        gateway: { host: '127.0.0.1', port, token: TOKEN },
        // The add-stream test below registers test://ball through the API.
        sourcePolicy: { allowTestPatterns: true },
        streams: [{ id: STREAM, url: assetPath('walkingVideo'), loop: true, fps: 15, mode: 'live' }],
      }),
    );
    await startRun();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stopChild(child);
  }, 30_000);

  it('asks for the token once (kept for the tab), and everything it loads needs it', async () => {
    expect((await fetch(`${baseUrl}/api/streams`)).status).toBe(401);
    expect((await fetch(`${baseUrl}/`)).status).toBe(200);
    await page.goto(baseUrl);
    await page.waitForSelector('#token-form', { state: 'visible', timeout: 10_000 });
    expect(await page.$(`article[data-stream-id="${STREAM}"]`)).toBeNull();
    expect(await page.textContent('#connection')).not.toBe('connected');
    await page.fill('#token', 'not-the-token');
    await page.click('#token-form button[type="submit"]');
    await expect.poll(() => page.textContent('#token-problem'), { timeout: 10_000 }).toBe('the gateway refused this token');
    await page.waitForSelector('#token-form', { state: 'visible' });
    await page.fill('#token', TOKEN);
    await page.click('#token-form button[type="submit"]');
    await page.waitForSelector('#token-form', { state: 'hidden', timeout: 5_000 });
    await page.waitForSelector(`article[data-stream-id="${STREAM}"]`, { timeout: 10_000 });
    await expect.poll(() => page.textContent('#connection'), { timeout: 15_000 }).toBe('connected');
    expect(await page.evaluate(() => sessionStorage.getItem('posestream-token'))).toBe(TOKEN);

    // A wall-screen bookmark with ?token= works without the prompt, and the token leaves the address bar.
    const kiosk = await browser.newPage();
    await kiosk.goto(`${baseUrl}/?token=${TOKEN}`);
    await kiosk.waitForSelector(`article[data-stream-id="${STREAM}"]`, { timeout: 10_000 });
    await expect.poll(() => kiosk.textContent('#connection'), { timeout: 15_000 }).toBe('connected');
    expect(kiosk.url()).toBe(`${baseUrl}/`);
    expect(await kiosk.isHidden('#token-form')).toBe(true);
    await kiosk.close();
  });

  it('shows the stream live with skeletons drawn on the people of the frame on screen', async () => {
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    await page.reload();
    await page.waitForSelector(`article[data-stream-id="${STREAM}"]`, { timeout: 10_000 });
    expect(await page.isHidden('#token-form')).toBe(true);
    await page.waitForFunction(
      (id) => {
        const drawn = (window as unknown as { posestreamDashboard: { drawn: Record<string, DrawnFrame> } }).posestreamDashboard.drawn[id];
        return drawn !== undefined && drawn.withOverlay && drawn.persons.length > 0;
      },
      STREAM,
      { timeout: 30_000 },
    );
    await expect.poll(() => page.textContent('#connection')).toBe('connected');
    // The page's own frame rate: frames are being painted continuously, not just once.
    await expect.poll(() => page.textContent(`article[data-stream-id="${STREAM}"] .stats`), { timeout: 10_000 }).toMatch(/shown [1-9]/);

    // Sample the canvas right away: the pixels and `drawn` belong to the same paint as long as no frame came in
    // between, so take both inside one evaluate.
    const palette = [...LIMB_COLORS, ...KEYPOINT_PALETTE].map((c) => [...c]);
    const sample = await page.evaluate(
      ({ id, colours, trackColours }) => {
        const drawn = (window as unknown as { posestreamDashboard: { drawn: Record<string, DrawnFrame> } }).posestreamDashboard.drawn[id]!;
        const canvas = document.querySelector(`article[data-stream-id="${id}"] canvas`) as HTMLCanvasElement;
        const ctx = canvas.getContext('2d')!;
        const { width, height } = canvas;
        const pixels = ctx.getImageData(0, 0, width, height).data;
        const sx = width / drawn.sourceWidth;
        const sy = height / drawn.sourceHeight;
        const isPalette = (i: number) =>
          colours.some((c) => Math.abs(pixels[i]! - c[0]!) <= 3 && Math.abs(pixels[i + 1]! - c[1]!) <= 3 && Math.abs(pixels[i + 2]! - c[2]!) <= 3);
        const inside = new Uint8Array(width * height);
        let paletteInBoxes = 0;
        let boxArea = 0;
        for (const person of drawn.persons) {
          const [x1, y1, x2, y2] = person.box as [number, number, number, number];
          for (let y = Math.max(0, Math.floor(y1 * sy)); y < Math.min(height, Math.ceil(y2 * sy)); y++) {
            for (let x = Math.max(0, Math.floor(x1 * sx)); x < Math.min(width, Math.ceil(x2 * sx)); x++) {
              if (inside[y * width + x]) continue;
              inside[y * width + x] = 1;
              boxArea += 1;
              if (isPalette((y * width + x) * 4)) paletteInBoxes += 1;
            }
          }
        }
        let paletteOutside = 0;
        for (let p = 0; p < width * height; p++) if (!inside[p] && isPalette(p * 4)) paletteOutside += 1;
        // Tracked people wear their id on a tab of their track's colour just above the box's top-left corner.
        const tracked = drawn.persons.filter((person) => person.trackId !== undefined);
        const labelled = tracked.filter((person) => {
          const colour = trackColours[person.trackId! % trackColours.length]!;
          const x = Math.min(width - 1, Math.max(0, Math.floor(person.box[0] * sx) + 2));
          const y = Math.min(height - 1, Math.max(0, Math.floor(person.box[1] * sy) - 3));
          const i = (y * width + x) * 4;
          return colour.every((c, k) => Math.abs(pixels[i + k]! - c) <= 3);
        }).length;
        return { width, height, persons: drawn.persons.length, boxArea, paletteInBoxes, paletteOutside, outsideArea: width * height - boxArea, tracked: tracked.length, labelled };
      },
      { id: STREAM, colours: palette, trackColours: Array.from({ length: 10 }, (_, i) => [...trackColor(i)]) },
    );
    mkdirSync(testArtifactsDir, { recursive: true });
    await page.screenshot({ path: path.join(testArtifactsDir, 'dashboard.png'), fullPage: true });
    console.log('dashboard canvas sample', sample);

    expect(sample.width).toBe(640);
    expect(sample.persons).toBeGreaterThan(0);
    expect(sample.paletteInBoxes).toBeGreaterThan(50);
    // Skeleton colours are dense inside the boxes and rare elsewhere (where only the video is).
    expect(sample.paletteInBoxes / sample.boxArea).toBeGreaterThan((10 * sample.paletteOutside) / sample.outsideArea);
    // The stream is tracked (the default): people carry ids and the dashboard labels them.
    expect(sample.tracked).toBeGreaterThan(0);
    expect(sample.labelled).toBeGreaterThanOrEqual(Math.ceil(sample.tracked / 2));
    const stats = await page.textContent(`article[data-stream-id="${STREAM}"] .stats`);
    expect(stats).toMatch(/[1-9][\d.]* results\/s/);
    expect(await page.textContent(`article[data-stream-id="${STREAM}"] .state`)).toBe('running');
    expect(consoleErrors).toEqual([]);
  });

  it('shows the field errors of an invalid stream from the add form', async () => {
    await page.fill('#add-stream input[name="id"]', 'bad id');
    await page.fill('#add-stream input[name="url"]', 'ftp://camera');
    await page.click('#add-stream button[type="submit"]');
    await page.waitForSelector('#form-errors li', { timeout: 5_000 });
    const errors = await page.$$eval('#form-errors li', (items) => items.map((item) => item.textContent));
    expect(errors.some((e) => /^id: /.test(e ?? ''))).toBe(true);
    expect(errors.some((e) => /^url: unsupported scheme "ftp:"/.test(e ?? ''))).toBe(true);
    // A source the API may not open (the operator allowed test patterns only) is refused with the reason.
    await page.fill('#add-stream input[name="id"]', 'secrets');
    await page.fill('#add-stream input[name="url"]', '/etc/passwd');
    await page.click('#add-stream button[type="submit"]');
    await expect
      .poll(() => page.$$eval('#form-errors li', (items) => items.map((item) => item.textContent)), { timeout: 5_000 })
      .toEqual([expect.stringMatching(/^url: local files are off for streams added through the API/)]);
  });

  it('adds a stream from the form, disables and enables it, and removes it', async () => {
    await page.fill('#add-stream input[name="id"]', 'ball');
    await page.fill('#add-stream input[name="url"]', 'test://ball');
    await page.fill('#add-stream input[name="fps"]', '5');
    await page.click('#add-stream button[type="submit"]');
    const card = 'article[data-stream-id="ball"]';
    await page.waitForSelector(card, { timeout: 5_000 });
    expect(await page.$$eval('#form-errors li', (items) => items.length)).toBe(0);
    const enabled = async () => {
      const body = (await fetch(`${baseUrl}/api/streams/ball`, withToken).then((r) => r.json())) as { enabled: boolean };
      return body.enabled;
    };
    await page.click(`${card} .toggle`);
    await expect.poll(enabled).toBe(false);
    await expect.poll(() => page.textContent(`${card} .toggle`)).toBe('Enable');
    await expect.poll(() => page.textContent(`${card} .state`)).toBe('disabled');
    await page.click(`${card} .toggle`);
    await expect.poll(enabled).toBe(true);
    await page.click(`${card} .remove`);
    await page.waitForSelector(card, { state: 'detached', timeout: 5_000 });
    expect((await fetch(`${baseUrl}/api/streams/ball`, withToken)).status).toBe(404);
    // The original stream is untouched.
    expect(await page.$(`article[data-stream-id="${STREAM}"]`)).not.toBeNull();
  });

  it('says it lost the server, reconnects by itself when the server is back, and paints live skeletons again', async () => {
    await expect.poll(() => page.textContent('#connection')).toBe('connected');
    await stopChild(child);
    await expect.poll(() => page.textContent('#connection'), { timeout: 10_000 }).toMatch(/disconnected.*retrying in/);
    // Whatever was painted before the outage; a paint after it must be a different frame object.
    await page.evaluate((id) => {
      const dashboard = (window as unknown as { posestreamDashboard: { drawn: Record<string, DrawnFrame> } }).posestreamDashboard;
      (window as unknown as { beforeOutage: unknown }).beforeOutage = dashboard.drawn[id];
    }, STREAM);
    await startRun();
    await expect.poll(() => page.textContent('#connection'), { timeout: 20_000 }).toBe('connected');
    await page.waitForFunction(
      (id) => {
        const drawn = (window as unknown as { posestreamDashboard: { drawn: Record<string, DrawnFrame> } }).posestreamDashboard.drawn[id];
        return drawn !== undefined && drawn !== (window as unknown as { beforeOutage: unknown }).beforeOutage && drawn.withOverlay && drawn.persons.length > 0;
      },
      STREAM,
      { timeout: 30_000 },
    );
    await expect.poll(() => page.textContent(`article[data-stream-id="${STREAM}"] .state`), { timeout: 10_000 }).toBe('running');
  }, 150_000);
});
