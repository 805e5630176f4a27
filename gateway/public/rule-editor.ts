import { lineSchema, ruleIdSchema, zoneSchema, type EventRulesConfig } from '../../pipeline/events/config.js';
import type { DraftShape, RuleShapes } from './overlay.js';

/**
 * The zone and line editor of one stream card: draw on the live frame (a polygon: click its corners, double-click
 * or Enter to close it; a line: click its start, then its end; the arrow shows the side a `left_to_right` crossing
 * goes to), name it, choose its rules, save. Saving PATCHes the stream's whole `events` object (REST replaces it)
 * with the zone or line added or replaced by name, and the matching event types added to `snapshots` so the event
 * feed shows a thumbnail. Points are normalised frame coordinates (x / width, y / height), as the engine takes them.
 */

type Point = [number, number];

export interface RuleEditorHost {
  /** The stream's current event rules as the gateway returned them (absent: the defaults). */
  rules(): Partial<EventRulesConfig> | undefined;
  /** PATCHes `events`; resolves with the saved rules, or the problems to show. */
  save(events: Record<string, unknown>): Promise<{ ok: true; rules: Partial<EventRulesConfig> } | { ok: false; problems: string[] }>;
  repaint(): void;
}

/** Two clicks closer than this (CSS pixels) are one point: a double-click also sends two clicks. */
const SAME_POINT_PX = 6;

const round = (value: number) => Math.round(Math.min(1, Math.max(0, value)) * 10_000) / 10_000;

export class RuleEditor {
  private draft: DraftShape & { points: Point[] } = { kind: 'zone', points: [], closed: false };
  private readonly form: HTMLFormElement;
  private readonly canvas: HTMLCanvasElement;

  constructor(
    card: HTMLElement,
    private readonly host: RuleEditorHost,
  ) {
    this.form = card.querySelector('.rule-editor') as HTMLFormElement;
    this.canvas = card.querySelector('canvas') as HTMLCanvasElement;
    const toggle = card.querySelector('.edit-rules') as HTMLButtonElement;
    toggle.addEventListener('click', () => {
      this.form.hidden = !this.form.hidden;
      toggle.setAttribute('aria-expanded', String(!this.form.hidden));
      card.classList.toggle('editing', !this.form.hidden);
      this.renderList();
      this.host.repaint();
    });
    this.canvas.addEventListener('click', (event) => this.onClick(event));
    this.canvas.addEventListener('dblclick', (event) => {
      event.preventDefault();
      this.closePolygon();
    });
    for (const radio of this.form.querySelectorAll<HTMLInputElement>('input[name="shape"]')) radio.addEventListener('change', () => this.setKind(radio.value === 'line' ? 'line' : 'zone'));
    this.form.querySelector('.clear')!.addEventListener('click', () => this.reset());
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.submit();
    });
    this.setKind('zone');
  }

  get open(): boolean {
    return !this.form.hidden;
  }

  /** Saved zones and lines, and the draft while editing: what the overlay draws. */
  shapes(): { saved: RuleShapes; draft?: DraftShape } {
    const rules = this.host.rules();
    return { saved: { zones: rules?.zones ?? [], lines: rules?.lines ?? [] }, ...(this.open ? { draft: this.draft } : {}) };
  }

  /** Enter closes a polygon being drawn. */
  onEnter(): boolean {
    if (!this.open || this.draft.kind !== 'zone' || this.draft.closed) return false;
    return this.closePolygon();
  }

  private setKind(kind: 'zone' | 'line'): void {
    this.draft = { kind, points: [], closed: false };
    for (const element of this.form.querySelectorAll<HTMLElement>('.zone-only')) element.hidden = kind !== 'zone';
    this.hint();
    this.host.repaint();
  }

  private reset(): void {
    this.draft = { kind: this.draft.kind, points: [], closed: false };
    this.problems([]);
    this.hint();
    this.host.repaint();
  }

  private onClick(event: MouseEvent): void {
    if (!this.open) return;
    const rect = this.canvas.getBoundingClientRect();
    const x = event.clientX - rect.left;
    const y = event.clientY - rect.top;
    const { draft } = this;
    const restart = (draft.kind === 'line' && draft.points.length >= 2) || draft.closed;
    const last = draft.points.at(-1);
    // The clicks of a double-click (closing the polygon) land on the last corner again: not a new corner.
    if (!restart && last && Math.hypot(x - last[0] * rect.width, y - last[1] * rect.height) < SAME_POINT_PX) return;
    if (restart) draft.points = [];
    draft.closed = false;
    draft.points.push([round(x / rect.width), round(y / rect.height)]);
    this.hint();
    this.host.repaint();
  }

  private closePolygon(): boolean {
    if (!this.open || this.draft.kind !== 'zone' || this.draft.points.length < 3) return false;
    this.draft.closed = true;
    this.hint();
    this.host.repaint();
    return true;
  }

  private hint(): void {
    const { kind, points, closed } = this.draft;
    let text: string;
    if (kind === 'line') {
      text = points.length < 2
        ? `Click the line's ${points.length === 0 ? 'start' : 'end'} on the frame.`
        : 'Line drawn: the arrow points to the side a left_to_right crossing goes to. Name it and save.';
    } else if (closed) text = 'Zone closed. Name it and save.';
    else text = `Click the zone's corners on the frame (${points.length} so far); double-click or press Enter to close it.`;
    this.form.querySelector('.hint')!.textContent = text;
  }

  private problems(messages: string[]): void {
    const list = this.form.querySelector('.rule-errors')!;
    list.replaceChildren(...messages.map((message) => Object.assign(document.createElement('li'), { textContent: message })));
  }

  /** The zone or line from the form and the drawing, validated with the engine's own schemas. */
  private built(): { kind: 'zones' | 'lines'; rule: Record<string, unknown> } | string[] {
    const data = new FormData(this.form);
    const name = String(data.get('name') ?? '').trim();
    const id = ruleIdSchema.safeParse(name);
    if (!id.success) return [`name: ${id.error.issues[0]?.message ?? 'invalid'}`];
    const { kind, points } = this.draft;
    if (kind === 'line') {
      if (points.length !== 2) return ['draw the line first: click its start and its end on the frame'];
      const line = lineSchema.safeParse({ id: name, a: points[0], b: points[1] });
      return line.success ? { kind: 'lines', rule: { id: name, a: points[0], b: points[1] } } : line.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    }
    if (points.length < 3) return ['draw the zone first: click at least 3 corners on the frame'];
    const rule: Record<string, unknown> = { id: name, polygon: points };
    const dwell = String(data.get('dwellSec') ?? '').trim();
    if (dwell !== '') rule.dwellSec = Number(dwell);
    if (data.get('suppressFall') === 'on') rule.suppress = ['fall'];
    const zone = zoneSchema.safeParse(rule);
    return zone.success ? { kind: 'zones', rule } : zone.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  }

  private async submit(): Promise<void> {
    const built = this.built();
    if (Array.isArray(built)) {
      this.problems(built);
      return;
    }
    const current = this.host.rules() ?? {};
    const replaced = (list: ReadonlyArray<{ id: string }> | undefined) => (list ?? []).filter((entry) => entry.id !== built.rule.id);
    const types = built.kind === 'zones' ? ['zone_enter', 'zone_exit', 'dwell'] : ['line_cross'];
    const events: Record<string, unknown> = {
      ...current,
      zones: built.kind === 'zones' ? [...replaced(current.zones), built.rule] : current.zones ?? [],
      lines: built.kind === 'lines' ? [...replaced(current.lines), built.rule] : current.lines ?? [],
      snapshots: [...new Set([...(current.snapshots ?? ['fall']), ...types])],
    };
    await this.apply(events);
  }

  private async remove(kind: 'zones' | 'lines', id: string): Promise<void> {
    const current = this.host.rules() ?? {};
    await this.apply({ ...current, [kind]: (current[kind] ?? []).filter((entry) => entry.id !== id) });
  }

  private async apply(events: Record<string, unknown>): Promise<void> {
    const saved = await this.host.save(events);
    if (!saved.ok) {
      this.problems(saved.problems);
      return;
    }
    this.form.querySelector<HTMLInputElement>('input[name="name"]')!.value = '';
    this.reset();
    this.renderList();
    this.form.querySelector('.saved')!.textContent = 'Saved: it applies from the next frames.';
  }

  renderList(): void {
    const rules = this.host.rules();
    const list = this.form.querySelector('.rule-list')!;
    const items: HTMLElement[] = [];
    for (const [kind, entries] of [['zones', rules?.zones ?? []], ['lines', rules?.lines ?? []]] as const) {
      for (const entry of entries) {
        const item = document.createElement('li');
        item.dataset.kind = kind;
        item.dataset.ruleId = entry.id;
        item.textContent = `${kind === 'zones' ? 'zone' : 'line'} ${entry.id} `;
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'remove-rule';
        button.textContent = 'remove';
        button.addEventListener('click', () => void this.remove(kind, entry.id));
        item.append(button);
        items.push(item);
      }
    }
    list.replaceChildren(...items);
  }
}
