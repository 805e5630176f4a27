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
          // The tab goes inside the box when there is no room above it (overlay.ts drawLabel: 1.3 x the font size,
          // at least 12 px at this width).
          const top = person.box[1] * sy;
          const tabHeight = Math.max(12, Math.max(2, Math.round(width / 320)) * 6) * 1.3;
          const y = Math.min(height - 1, Math.max(0, Math.floor(top - tabHeight >= 0 ? top - 3 : top + 3)));
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

  it('draws a line across the walkway with the editor, saves it, and shows the crossing in the event feed with a thumbnail', async () => {
    const card = `article[data-stream-id="${STREAM}"]`;
    const editor = `${card} .rule-editor`;
    // Nothing crossed a line before there was one.
    expect(await page.$$(`#event-feed li.event[data-type="line_cross"]`)).toHaveLength(0);
    await page.click(`${card} .edit-rules`);
    await page.waitForSelector(editor, { state: 'visible' });
    await page.check(`${editor} input[name="shape"][value="line"]`);
    await page.fill(`${editor} input[name="name"]`, 'walkway');
    // Saving before drawing says what is missing, and saves nothing.
    await page.click(`${editor} .save`);
    await expect.poll(() => page.textContent(`${editor} .rule-errors`)).toMatch(/draw the line first/);

    // The walker comes towards the camera and to the left, crossing x = 0.575 with his feet around y = 0.71 (see
    // test/integration/events-line-cross.test.ts): a line from a (top) to b (bottom) there, by two real clicks.
    const box = (await page.locator(`${card} canvas`).boundingBox())!;
    const at = (x: number, y: number) => [box.x + x * box.width, box.y + y * box.height] as const;
    await page.mouse.click(...at(0.575, 0.55));
    await page.mouse.click(...at(0.575, 0.95));
    await expect.poll(() => page.textContent(`${editor} .hint`)).toMatch(/Line drawn/);
    await page.click(`${editor} .save`);
    await expect.poll(() => page.textContent(`${editor} .saved`), { timeout: 5_000 }).toMatch(/Saved/);
    expect(await page.textContent(`${editor} .rule-errors`)).toBe('');
    await page.waitForSelector(`${editor} .rule-list li[data-kind="lines"][data-rule-id="walkway"]`);

    // Saved with the stream, through REST: the line where it was clicked, and crossings get snapshots.
    const stream = (await fetch(`${baseUrl}/api/streams/${STREAM}`, withToken).then((r) => r.json())) as {
      events: { lines: Array<{ id: string; a: [number, number]; b: [number, number] }>; snapshots: string[] };
    };
    expect(stream.events.lines).toHaveLength(1);
    const [line] = stream.events.lines;
    expect(line!.id).toBe('walkway');
    for (const [got, want] of [[line!.a, [0.575, 0.55]], [line!.b, [0.575, 0.95]]] as const) {
      expect(got[0]).toBeCloseTo(want[0], 2);
      expect(got[1]).toBeCloseTo(want[1], 2);
    }
    expect(stream.events.snapshots).toEqual(expect.arrayContaining(['fall', 'line_cross']));

    // The saved line is drawn on the frame (its colour along x = 0.575 between the ends).
    await expect
      .poll(
        () =>
          page.evaluate((id) => {
            const canvas = document.querySelector(`article[data-stream-id="${id}"] canvas`) as HTMLCanvasElement;
            const ctx = canvas.getContext('2d')!;
            let hits = 0;
            for (let k = 0; k < 20; k++) {
              const y = Math.round(canvas.height * (0.6 + 0.3 * (k / 19)));
              const row = ctx.getImageData(Math.round(canvas.width * 0.575) - 3, y, 7, 1).data;
              for (let i = 0; i < row.length; i += 4) if (row[i]! < 40 && row[i + 1]! > 200 && row[i + 2]! > 220) { hits += 1; break; }
            }
            return hits;
          }, STREAM),
        { timeout: 5_000 },
      )
      .toBeGreaterThan(10);

    // The walker crosses it once per loop of the clip (4.8 s): the crossing shows up in the feed, live, with the
    // snapshot of the decisive frame as a thumbnail.
    const item = `#event-feed li.event[data-type="line_cross"][data-stream-id="${STREAM}"]`;
    await page.waitForSelector(item, { timeout: 40_000 });
    expect(await page.textContent(item)).toMatch(/line walkway/);
    expect(await page.textContent(item)).toMatch(/left to right|right to left/);
    expect(await page.textContent(item)).toMatch(/#\d+/);
    await page.waitForFunction(
      (selector) => {
        const image = document.querySelector(`${selector} img.thumb`) as HTMLImageElement | null;
        return image !== null && image.complete && image.naturalWidth > 0;
      },
      item,
      { timeout: 10_000 },
    );
    mkdirSync(testArtifactsDir, { recursive: true });
    await page.screenshot({ path: path.join(testArtifactsDir, 'dashboard-events.png'), fullPage: true });
  }, 90_000);

  it('draws a zone polygon (corners clicked, double-click closes it), saves it with its rules, and removes it', async () => {
    const card = `article[data-stream-id="${STREAM}"]`;
    const editor = `${card} .rule-editor`;
    await page.check(`${editor} input[name="shape"][value="zone"]`);
    const box = (await page.locator(`${card} canvas`).boundingBox())!;
    const at = (x: number, y: number) => [box.x + x * box.width, box.y + y * box.height] as const;
    await page.mouse.click(...at(0.1, 0.6));
    await page.mouse.click(...at(0.5, 0.6));
    await page.mouse.click(...at(0.5, 0.98));
    await page.mouse.dblclick(...at(0.1, 0.98));
    await expect.poll(() => page.textContent(`${editor} .hint`)).toMatch(/Zone closed/);
    await page.fill(`${editor} input[name="name"]`, 'bed');
    await page.check(`${editor} input[name="suppressFall"]`);
    await page.fill(`${editor} input[name="dwellSec"]`, '2');
    await page.click(`${editor} .save`);
    await page.waitForSelector(`${editor} .rule-list li[data-kind="zones"][data-rule-id="bed"]`, { timeout: 5_000 });
    const events = async () =>
      ((await fetch(`${baseUrl}/api/streams/${STREAM}`, withToken).then((r) => r.json())) as {
        events: { zones: Array<{ id: string; polygon: Array<[number, number]>; suppress: string[]; dwellSec?: number }>; lines: Array<{ id: string }>; snapshots: string[] };
      }).events;
    const saved = await events();
    // Four corners (the double-click's own clicks add none), the line from before kept.
    expect(saved.zones).toHaveLength(1);
    expect(saved.zones[0]).toMatchObject({ id: 'bed', suppress: ['fall'], dwellSec: 2 });
    expect(saved.zones[0]!.polygon.map(([x, y]) => [Math.round(x * 100) / 100, Math.round(y * 100) / 100])).toEqual([[0.1, 0.6], [0.5, 0.6], [0.5, 0.98], [0.1, 0.98]]);
    expect(saved.lines.map((l) => l.id)).toEqual(['walkway']);
    expect(saved.snapshots).toEqual(expect.arrayContaining(['zone_enter', 'line_cross']));

    await page.click(`${editor} .rule-list li[data-rule-id="bed"] .remove-rule`);
    await expect.poll(async () => (await events()).zones.length, { timeout: 5_000 }).toBe(0);
    expect((await events()).lines.map((l) => l.id)).toEqual(['walkway']);
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
