import type { PoseEvent } from '../../pipeline/wire/v1.js';

/**
 * The event feed: the newest pose events of every stream, newest first, each with its type, stream, track id, time
 * and, when the event has one, a thumbnail of its annotated snapshot (fetched with the token in a header, shown from a
 * blob URL, so the token never sits in an image address). Bounded: the oldest entries leave the list.
 */

export type SnapshotLoader = (eventId: string) => Promise<Blob | undefined>;

function describe(event: PoseEvent): string {
  const parts: string[] = [];
  if (event.zone) parts.push(`zone ${event.zone}`);
  if (event.line) parts.push(`line ${event.line}`);
  if (event.direction) parts.push(event.direction.replace(/_/g, ' '));
  const posture = event.attributes.posture;
  if (typeof posture === 'string') parts.push(posture);
  const count = event.attributes.count;
  if (typeof count === 'number') parts.push(`count ${count}`);
  return parts.join(' · ');
}

export class EventFeed {
  private readonly shown = new Map<string, HTMLElement>();

  constructor(
    private readonly list: HTMLElement,
    private readonly empty: HTMLElement,
    private readonly loadSnapshot: SnapshotLoader,
    private readonly limit = 50,
  ) {}

  /** Adds an event on top (an event already shown is ignored: REST history and the live channel overlap). */
  add(event: PoseEvent): void {
    if (this.shown.has(event.id)) return;
    const item = document.createElement('li');
    item.className = 'event';
    item.dataset.type = event.type;
    item.dataset.streamId = event.streamId;
    item.dataset.eventId = event.id;
    const text = document.createElement('div');
    const type = document.createElement('strong');
    type.className = 'type';
    type.textContent = event.type;
    const where = document.createElement('span');
    where.className = 'where';
    where.textContent = ` ${event.streamId}${event.trackId !== undefined ? ` · #${event.trackId}` : ''}`;
    const time = document.createElement('time');
    time.dateTime = new Date(event.atCaptureTs).toISOString();
    time.textContent = new Date(event.atCaptureTs).toLocaleTimeString();
    const detail = document.createElement('span');
    detail.className = 'detail';
    detail.textContent = describe(event);
    text.append(type, where, document.createElement('br'), detail, document.createElement('br'), time);
    if (event.snapshot) item.append(this.thumbnail(event.id));
    item.append(text);
    this.list.prepend(item);
    this.shown.set(event.id, item);
    while (this.shown.size > this.limit) {
      const [oldestId, oldest] = this.shown.entries().next().value!;
      this.shown.delete(oldestId);
      const image = oldest.querySelector('img');
      if (image?.src.startsWith('blob:')) URL.revokeObjectURL(image.src);
      oldest.remove();
    }
    this.empty.hidden = true;
  }

  private thumbnail(eventId: string): HTMLImageElement {
    const image = document.createElement('img');
    image.className = 'thumb';
    image.alt = 'snapshot of the moment the event fired';
    image.width = 96;
    void this.loadSnapshot(eventId).then((blob) => {
      if (blob) image.src = URL.createObjectURL(blob);
      else image.remove();
    });
    return image;
  }
}
