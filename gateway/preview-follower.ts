import type { Redis } from 'ioredis';
import type { Logger } from '../pipeline/obs/logger.js';
import { decodePreviewFields, streamReadReply, type RawStreamEntry } from '../pipeline/redis/codec.js';
import { keys, PREVIEW_LENGTH, streamIdOfKey, VIEWERS_TTL_SEC } from '../pipeline/redis/keys.js';
import type { FrameMeta } from '../pipeline/wire/v1.js';
import { renderPreview, type AnnotatedPreview } from './annotate.js';
import { FollowLoop } from '../pipeline/follow-loop.js';

/**
 * Frames for watchers. While a stream has a frame subscriber (WebSocket, MJPEG or a snapshot request) the gateway
 * keeps keys.viewers(id) alive, which makes the workers add result+frame pairs to keys.preview(id) (MAXLEN
 * PREVIEW_LENGTH). One blocking XREAD over the watched preview streams takes only the newest entry of each stream,
 * renders the variants that a watcher with a draining socket wants, once each, and hands them on. Bounds: at most
 * one render per stream in flight, older preview entries are skipped (frames are for looking at; results carry the
 * data), nothing is queued here; a stream whose watchers have all stalled is no longer marked as watched.
 */

export interface PreviewInterest {
  annotated: boolean;
  plain: boolean;
}

export interface PreviewFollowerOptions {
  logger: Logger;
  jpegQuality: number;
  blockMs?: number;
  interest: () => Map<string, PreviewInterest>;
  /** Asked per frame: the variants somebody can take right now (nothing is rendered for congested clients). */
  demand: (streamId: string) => PreviewInterest;
  /** meta is undefined when nothing was rendered (every watcher is congested): the frame is skipped for them. */
  onFrame: (streamId: string, meta: FrameMeta | undefined, rendered: AnnotatedPreview) => void;
}

export class PreviewFollower {
  private readonly cursors = new Map<string, string>();
  private wanted = new Map<string, PreviewInterest>();
  private readonly loop: FollowLoop;
  private readonly refreshTimer: NodeJS.Timeout;
  /** Warned once per process: a bad entry or a failing encoder would otherwise log at frame rate. */
  private badEntryWarned = false;
  private renderWarned = false;

  constructor(
    private readonly redis: Redis,
    /** Dedicated connection: XREAD BLOCK holds it. */
    private readonly blocking: Redis,
    private readonly options: PreviewFollowerOptions,
  ) {
    this.refreshTimer = setInterval(() => void this.markViewers(this.streamsInDemand()), (VIEWERS_TTL_SEC * 1000) / 3);
    this.refreshTimer.unref();
    this.loop = new FollowLoop({ idle: () => this.cursors.size === 0, readOnce: () => this.readOnce(), logger: options.logger, what: 'preview frames' });
  }

  /** Re-reads who watches what; newly watched streams are announced to the workers at once. */
  interestChanged(): void {
    const previous = this.wanted;
    this.wanted = this.options.interest();
    const added = [...this.wanted.keys()].filter((id) => !previous.has(id));
    for (const id of this.cursors.keys()) if (!this.wanted.has(id)) this.cursors.delete(id);
    for (const id of added) this.cursors.set(id, '$');
    if (added.length > 0) void this.markViewers(added);
    this.loop.poke();
  }

  start(): void {
    this.loop.start();
  }

  /** The caller disconnects the blocking connection afterwards, which ends a pending XREAD at once. */
  stop(): void {
    clearInterval(this.refreshTimer);
    this.loop.stop();
  }

  async stopped(): Promise<void> {
    await this.loop.stopped();
  }

  /**
   * Watched streams with at least one watcher whose socket drains. A stream watched only by stalled clients stops
   * being marked, so after VIEWERS_TTL_SEC the workers stop producing its previews and the gateway stops reading them.
   */
  private streamsInDemand(): string[] {
    return [...this.wanted.keys()].filter((id) => {
      const demand = this.options.demand(id);
      return demand.plain || demand.annotated;
    });
  }

  private async markViewers(streamIds: string[]): Promise<void> {
    if (streamIds.length === 0) return;
    try {
      const pipeline = this.redis.pipeline();
      for (const id of streamIds) pipeline.set(keys.viewers(id), '1', 'EX', VIEWERS_TTL_SEC);
      await pipeline.exec();
    } catch (error) {
      this.options.logger.warn({ err: error }, 'marking frame viewers in redis failed');
    }
  }

  private async readOnce(): Promise<void> {
    const ids = [...this.cursors.keys()];
    const reply = await this.blocking.xreadBuffer(
      'COUNT',
      PREVIEW_LENGTH,
      'BLOCK',
      this.options.blockMs ?? 1_000,
      'STREAMS',
      ...ids.map((id) => keys.preview(id)),
      ...ids.map((id) => this.cursors.get(id)!),
    );
    await Promise.all(streamReadReply<Buffer>(reply).map(({ key, entries }) => this.renderNewest(streamIdOfKey(key), entries)));
  }

  private async renderNewest(streamId: string, entries: Array<RawStreamEntry<Buffer>>): Promise<void> {
    const newest = entries[entries.length - 1];
    if (!newest || !this.cursors.has(streamId)) return;
    this.cursors.set(streamId, newest.id);
    if (!this.wanted.has(streamId)) return;
    const wanted = this.options.demand(streamId);
    if (!wanted.plain && !wanted.annotated) {
      this.options.onFrame(streamId, undefined, {});
      return;
    }
    let preview: ReturnType<typeof decodePreviewFields>;
    try {
      preview = decodePreviewFields(newest.fields ?? []);
    } catch (error) {
      if (!this.badEntryWarned) this.options.logger.warn({ err: error, streamId }, 'skipping undecodable preview entry');
      this.badEntryWarned = true;
      return;
    }
    try {
      const rendered = await renderPreview(preview, wanted, this.options.jpegQuality);
      this.options.onFrame(streamId, preview.meta, rendered);
    } catch (error) {
      if (!this.renderWarned) this.options.logger.warn({ err: error, streamId }, 'rendering a preview frame failed; skipping it');
      this.renderWarned = true;
    }
  }
}
