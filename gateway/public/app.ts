import { connect, type Delivery, type PosestreamClient } from '../../client/index.js';
import { browserSocket } from '../../client/socket.js';
import type { EventRulesConfig } from '../../pipeline/events/config.js';
import type { Person, PoseEvent, PoseResult, StreamState } from '../../pipeline/wire/v1.js';
import { EventFeed } from './event-feed.js';
import { drawOverlay, drawRuleShapes, TrackTrails } from './overlay.js';
import { RuleEditor } from './rule-editor.js';

/**
 * posestream dashboard: one card per registered stream with the live frame and the skeletons of the result computed
 * on exactly that frame (matched by seq), per-stream rates from GET /api/streams, and stream management through the
 * REST API. Frames arrive plain (annotated:false) so overlays are drawn here, crisp at any zoom. It talks to the
 * gateway through posestream/client (client/), the same library consumers use: reconnects, and the event feed
 * resumes after the last event it showed. Each card has a zone and line editor (rule-editor.ts); the event feed
 * (event-feed.ts) lists the newest events of every stream with snapshot thumbnails.
 */

interface ApiStream {
  id: string;
  url: string;
  enabled: boolean;
  state: StreamState | null;
  events?: Partial<EventRulesConfig>;
  stats: { fps: number; latencyMs: number | null; drops: number; persons: number | null; lastResultAgeMs: number | null };
}

interface StreamView {
  id: string;
  card: HTMLElement;
  ctx: CanvasRenderingContext2D;
  results: Map<number, PoseResult>;
  frame?: { bitmap: ImageBitmap; seq: number };
  decoding: boolean;
  pendingFrame?: { seq: number; jpeg: Uint8Array; width: number; height: number };
  shownAt: number[];
  dropped: number;
  enabled: boolean;
  stats?: ApiStream['stats'];
  /** Where each tracked person walked lately (drawn when "trails" is ticked). */
  trails: TrackTrails;
  /** The stream's event rules (zones and lines are drawn on the frame), from the last GET /api/streams or save. */
  rules?: Partial<EventRulesConfig>;
  editor?: RuleEditor;
}

/** What was last painted per stream; the e2e test reads it to know where the people are. */
interface DrawnFrame { seq: number; withOverlay: boolean; persons: Person[]; sourceWidth: number; sourceHeight: number }
const drawn: Record<string, DrawnFrame> = {};
(window as unknown as { posestreamDashboard: unknown }).posestreamDashboard = { drawn };

const RESULTS_KEPT = 32;
const TRAILS_KEY = 'posestream-trails';

/** The "trails" box in the header, remembered per browser. */
function showTrails(): boolean {
  return $<HTMLInputElement>('#trails')?.checked ?? false;
}

function setupTrailsToggle(): void {
  const box = $<HTMLInputElement>('#trails');
  box.checked = localStorage.getItem(TRAILS_KEY) === '1';
  box.addEventListener('change', () => {
    localStorage.setItem(TRAILS_KEY, box.checked ? '1' : '0');
    for (const view of views.values()) paint(view);
  });
}
const views = new Map<string, StreamView>();
const $ = <T extends HTMLElement>(selector: string): T => document.querySelector(selector) as T;

/**
 * The gateway token, asked for once per browser tab and kept in sessionStorage (gone when the tab closes, never sent
 * to other sites): REST calls send it as a Bearer header, the WebSocket as ?token= (browsers cannot set headers
 * there). The page itself is served without it; everything it loads from the gateway needs it when one is set.
 */
const TOKEN_KEY = 'posestream-token';
let connection: PosestreamClient | undefined;
let feed: EventFeed | undefined;

function token(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

/** A `?token=` in the page address (a wall-screen bookmark) is taken once and removed from the address bar. */
function adoptTokenFromAddress(): void {
  const params = new URLSearchParams(location.search);
  const given = params.get('token');
  if (given === null) return;
  if (given) sessionStorage.setItem(TOKEN_KEY, given);
  params.delete('token');
  const query = params.toString();
  history.replaceState(null, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
}

function askForToken(problem: string): void {
  const form = $<HTMLFormElement>('#token-form');
  $('#token-problem').textContent = problem;
  if (!form.hidden) return;
  form.hidden = false;
  $<HTMLInputElement>('#token').focus();
}

function setupTokenForm(): void {
  const form = $<HTMLFormElement>('#token-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $<HTMLInputElement>('#token');
    sessionStorage.setItem(TOKEN_KEY, input.value);
    input.value = '';
    form.hidden = true;
    connection?.reconnectNow();
    void refreshStreams();
    void loadRecentEvents();
  });
}

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token()) headers.set('authorization', `Bearer ${token()}`);
  if (init.body) headers.set('content-type', 'application/json');
  const response = await fetch(path, { ...init, headers });
  if (response.status === 401) askForToken(token() ? 'the gateway refused this token' : 'this gateway needs its token');
  return response;
}

function setBadge(element: HTMLElement, state: string, label = state): void {
  element.dataset.state = state;
  element.textContent = label;
}

function createView(id: string): StreamView {
  const card = ($<HTMLTemplateElement>('#card').content.firstElementChild as HTMLElement).cloneNode(true) as HTMLElement;
  card.dataset.streamId = id;
  card.querySelector('.name')!.textContent = id;
  const view: StreamView = {
    id,
    card,
    ctx: card.querySelector('canvas')!.getContext('2d')!,
    results: new Map(),
    decoding: false,
    shownAt: [],
    dropped: 0,
    enabled: true,
    trails: new TrackTrails(),
  };
  card.querySelector('.toggle')!.addEventListener('click', () => {
    void api(`/api/streams/${encodeURIComponent(id)}`, { method: 'PATCH', body: JSON.stringify({ enabled: !view.enabled }) }).then(refreshStreams);
  });
  card.querySelector('.remove')!.addEventListener('click', () => {
    void api(`/api/streams/${encodeURIComponent(id)}`, { method: 'DELETE' }).then(refreshStreams);
  });
  view.editor = new RuleEditor(card, {
    rules: () => view.rules,
    save: (events) => saveRules(view, events),
    repaint: () => paint(view),
  });
  $('#grid').append(card);
  return view;
}

/** PATCH of the stream's whole `events` object; the reply's rules become the card's. */
async function saveRules(view: StreamView, events: Record<string, unknown>): Promise<{ ok: true; rules: Partial<EventRulesConfig> } | { ok: false; problems: string[] }> {
  const response = await api(`/api/streams/${encodeURIComponent(view.id)}`, { method: 'PATCH', body: JSON.stringify({ events }) }).catch(() => undefined);
  if (!response) return { ok: false, problems: ['the gateway could not be reached'] };
  const body = (await response.json().catch(() => ({}))) as ApiStream & { error?: { message: string; fields?: Array<{ path: string; message: string }> } };
  if (!response.ok) return { ok: false, problems: (body.error?.fields ?? [{ path: '', message: body.error?.message ?? `HTTP ${response.status}` }]).map((f) => (f.path ? `${f.path}: ${f.message}` : f.message)) };
  view.rules = body.events;
  paint(view);
  return { ok: true, rules: body.events ?? {} };
}

function paint(view: StreamView): void {
  if (!view.frame) return;
  const { bitmap, seq } = view.frame;
  const canvas = view.ctx.canvas;
  if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
  }
  view.ctx.drawImage(bitmap, 0, 0);
  const result = view.results.get(seq);
  const shapes = view.editor?.shapes();
  if (shapes) drawRuleShapes(view.ctx, shapes.saved, shapes.draft);
  if (result) drawOverlay(view.ctx, result.persons, result.sourceWidth, result.sourceHeight, showTrails() ? { trails: view.trails, upToSeq: seq } : undefined);
  drawn[view.id] = {
    seq,
    withOverlay: result !== undefined,
    persons: result?.persons ?? [],
    sourceWidth: result?.sourceWidth ?? bitmap.width,
    sourceHeight: result?.sourceHeight ?? bitmap.height,
  };
}

/** At most one JPEG decode per stream in flight; a newer frame replaces a waiting one. */
function showFrame(view: StreamView, frame: { seq: number; jpeg: Uint8Array; width: number; height: number }): void {
  if (view.decoding) {
    view.pendingFrame = frame;
    return;
  }
  view.decoding = true;
  createImageBitmap(new Blob([frame.jpeg as BlobPart], { type: 'image/jpeg' }))
    .then((bitmap) => {
      view.frame?.bitmap.close();
      view.frame = { bitmap, seq: frame.seq };
      view.shownAt.push(performance.now());
      paint(view);
    })
    .catch(() => undefined)
    .finally(() => {
      view.decoding = false;
      const next = view.pendingFrame;
      view.pendingFrame = undefined;
      if (next) showFrame(view, next);
    });
}

function onResult(result: PoseResult): void {
  const view = views.get(result.streamId);
  if (!view) return;
  view.results.set(result.seq, result);
  view.trails.add(result.seq, result.persons);
  if (view.results.size > RESULTS_KEPT) view.results.delete(view.results.keys().next().value!);
  // The result can arrive after its frame (they travel on different Redis streams): paint the overlay then.
  if (view.frame?.seq === result.seq && !drawn[view.id]?.withOverlay) paint(view);
}

function showState(state: StreamState): void {
  const view = views.get(state.streamId);
  if (!view) return;
  setBadge(view.card.querySelector('.state')!, view.enabled ? state.state : 'disabled');
  view.card.querySelector('.reason')!.textContent = state.reason ?? '';
}

function onDelivery(delivery: Delivery): void {
  if (delivery.type === 'frame') {
    const view = views.get(delivery.header.streamId);
    if (view) showFrame(view, { seq: delivery.header.seq, jpeg: delivery.jpeg, width: delivery.header.width, height: delivery.header.height });
  } else if (delivery.type === 'result' && delivery.result.kind === 'pose') onResult(delivery.result);
  else if (delivery.type === 'state') showState(delivery.state);
  else if (delivery.type === 'event') feed?.add(delivery.event);
  else if (delivery.type === 'dropped' && delivery.channel === 'frames') {
    const view = views.get(delivery.streamId);
    if (view) view.dropped = delivery.count;
  }
}

/** The event feed starts with the newest retained events (REST), then follows the `events` channel. */
async function loadRecentEvents(): Promise<void> {
  const response = await api('/api/events?limit=20').catch(() => undefined);
  if (!response?.ok) return;
  const { events } = (await response.json()) as { events: PoseEvent[] };
  for (const event of events) feed?.add(event);
}

async function loadSnapshot(eventId: string): Promise<Blob | undefined> {
  const response = await api(`/api/events/${encodeURIComponent(eventId)}/snapshot.jpg`).catch(() => undefined);
  return response?.ok ? response.blob() : undefined;
}

async function refreshStreams(): Promise<void> {
  const response = await api('/api/streams');
  if (!response.ok) return;
  const { streams } = (await response.json()) as { streams: ApiStream[] };
  const ids = new Set(streams.map((s) => s.id));
  for (const [id, view] of views) {
    if (!ids.has(id)) {
      view.card.remove();
      views.delete(id);
    }
  }
  for (const stream of streams) {
    let view = views.get(stream.id);
    if (!view) {
      view = createView(stream.id);
      views.set(stream.id, view);
    }
    view.enabled = stream.enabled;
    const rulesChanged = JSON.stringify(view.rules) !== JSON.stringify(stream.events);
    view.rules = stream.events;
    if (rulesChanged) view.editor?.renderList();
    view.card.querySelector('.toggle')!.textContent = stream.enabled ? 'Disable' : 'Enable';
    if (stream.state) showState(stream.state);
    else setBadge(view.card.querySelector('.state')!, stream.enabled ? 'pending' : 'disabled');
    view.stats = stream.stats;
    renderStats(view);
  }
  $('#empty').hidden = streams.length > 0;
}

/** Server figures (from the last GET /api/streams) next to what this page actually painted. */
function renderStats(view: StreamView): void {
  if (!view.stats) return;
  const now = performance.now();
  view.shownAt = view.shownAt.filter((t) => now - t < 5_000);
  const span = view.shownAt.length > 1 ? Math.max(1_000, now - view.shownAt[0]!) : 0;
  const shownFps = span > 0 ? ((view.shownAt.length - 1) * 1000) / span : 0;
  const { fps, latencyMs, drops, persons } = view.stats;
  view.card.querySelector('.stats')!.textContent =
    `${fps.toFixed(1)} results/s · latency ${latencyMs ?? '–'} ms · ${persons ?? 0} persons · ` +
    `${drops} frames without result · shown ${shownFps.toFixed(1)} fps` + (view.dropped ? ` · ${view.dropped} frames skipped for this page` : '');
}

function setupForm(): void {
  const form = $<HTMLFormElement>('#add-stream');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body: Record<string, unknown> = { id: data.get('id'), url: data.get('url'), mode: data.get('mode'), loop: data.get('loop') === 'on' };
    if (data.get('fps')) body.fps = Number(data.get('fps'));
    const errors = $('#form-errors');
    errors.replaceChildren();
    void api('/api/streams', { method: 'POST', body: JSON.stringify(body) }).then(async (response) => {
      if (response.ok) {
        form.reset();
        return refreshStreams();
      }
      const { error } = (await response.json()) as { error: { message: string; fields?: Array<{ path: string; message: string }> } };
      for (const problem of error.fields ?? [{ path: '', message: error.message }]) {
        const item = document.createElement('li');
        item.textContent = problem.path ? `${problem.path}: ${problem.message}` : problem.message;
        errors.append(item);
      }
    });
  });
}

function start(): void {
  adoptTokenFromAddress();
  setupTokenForm();
  setupTrailsToggle();
  setupForm();
  feed = new EventFeed($('#event-feed'), $('#no-events'), loadSnapshot);
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return;
    for (const view of views.values()) if (view.editor?.onEnter()) event.preventDefault();
  });
  connection = connect('/ws', {
    base: location.href,
    socket: browserSocket,
    token: () => token(),
    // A refused token closes the socket before it opens (the browser does not show the 401): the REST calls
    // below get the 401 and ask for the token.
    onStatus: (state, detail) => setBadge($('#connection'), state, detail),
    onHello: () => void refreshStreams(),
    onError: (error) => console.warn('gateway:', error.message),
  });
  // Live view: after a reconnect, the newest results and frames, not what was missed meanwhile.
  connection.subscribe({ streams: ['*'], channels: ['results', 'frames', 'state'], annotated: false, resume: false }, onDelivery);
  // The feed resumes after the last event it showed.
  connection.subscribe({ streams: ['*'], channels: ['events'] }, onDelivery);
  void loadRecentEvents();
  void refreshStreams();
  setInterval(() => void refreshStreams(), 2_000);
  setInterval(() => views.forEach(renderStats), 1_000);
}

start();
