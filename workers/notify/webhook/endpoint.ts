import type { WebhookSinkConfig } from '../../../config/notify.js';
import { describeError } from '../../../pipeline/errors.js';
import type { Logger } from '../../../pipeline/obs/logger.js';
import type { Metrics } from '../../../pipeline/obs/metrics.js';
import { urlOrigin } from '../../../pipeline/obs/redact.js';
import type { PoseEvent } from '../../../pipeline/wire/v1.js';
import { BurstLog } from '../burst-log.js';
import { BoundedQueue } from './bounded-queue.js';
import { retryableStatus, retryDelayMs } from './retry-delay.js';
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './signature.js';

/**
 * One webhook endpoint: a bounded queue (config queueLimit, named dropPolicy) in front of one delivery at a time,
 * in order. A delivery is retried on network errors, timeouts, 5xx, 408 and 429 with exponential back-off and full
 * jitter, up to maxAttempts; other 4xx answers drop it at once ('rejected'). Every drop is counted in
 * posestream_notify_dropped_total{sink="webhook:<name>",reason} and logged once per burst.
 */

export interface WebhookJob {
  event: PoseEvent;
  /** The JSON body, serialised once for every endpoint; the signature covers exactly these bytes. */
  body: string;
  done(outcome: 'delivered' | 'dropped'): void;
}

export type DropReason = 'queue_full' | 'retries_exhausted' | 'rejected';

export interface WebhookEndpointOptions {
  logger: Logger;
  metrics?: Metrics;
  random?: () => number;
}

type AttemptResult = { ok: true } | { ok: false; retryable: boolean; reason: string };

export class WebhookEndpoint {
  readonly sink: string;
  private readonly queue: BoundedQueue<WebhookJob>;
  private readonly target: string;
  private readonly authorization: string | undefined;
  private readonly streams: ReadonlySet<string> | undefined;
  private readonly types: ReadonlySet<string> | undefined;
  private readonly drops: BurstLog;
  private readonly failures: BurstLog;
  private readonly closing = new AbortController();
  private busy = false;

  constructor(
    private readonly config: WebhookSinkConfig,
    private readonly options: WebhookEndpointOptions,
  ) {
    this.sink = `webhook:${config.name}`;
    this.queue = new BoundedQueue(config.queueLimit, config.dropPolicy);
    const url = new URL(config.url);
    // fetch refuses URLs with credentials: userinfo becomes a Basic Authorization header.
    if (url.username || url.password) {
      this.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
      url.username = '';
      url.password = '';
    }
    this.target = url.toString();
    this.streams = config.streams ? new Set(config.streams) : undefined;
    this.types = config.types ? new Set(config.types) : undefined;
    const log = options.logger.child({ sink: this.sink, endpoint: urlOrigin(config.url) });
    this.drops = new BurstLog(log, { first: `webhook ${config.name}: dropping events`, ended: `webhook ${config.name}: delivering again after drops` });
    this.failures = new BurstLog(log, { first: `webhook ${config.name}: delivery failing; retrying with back-off`, ended: `webhook ${config.name}: delivery works again` });
  }

  /** The endpoint's filters: stream ids and event types (absent = all). */
  accepts(event: PoseEvent): boolean {
    return (!this.streams || this.streams.has(event.streamId)) && (!this.types || this.types.has(event.type));
  }

  enqueue(job: WebhookJob): void {
    const offered = this.queue.offer(job);
    if (!offered.queued) this.drop(job, 'queue_full');
    else if (offered.evicted) this.drop(offered.evicted, 'queue_full');
    this.updateDepth();
    void this.pump();
  }

  /** Stops delivering: the attempt in flight and back-off waits are aborted; their events stay pending in Redis. */
  close(): void {
    this.closing.abort();
    this.queue.drain();
    this.updateDepth();
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let job = this.queue.shift(); job && !this.closing.signal.aborted; job = this.queue.shift()) {
        this.updateDepth();
        await this.deliver(job);
      }
    } finally {
      this.busy = false;
    }
  }

  private async deliver(job: WebhookJob): Promise<void> {
    for (let attempt = 1; attempt <= this.config.maxAttempts; attempt += 1) {
      const result = await this.attempt(job);
      if (this.closing.signal.aborted) return;
      if (result.ok) {
        this.options.metrics?.notifyDelivered.inc({ sink: this.sink });
        this.failures.end();
        this.drops.end();
        job.done('delivered');
        return;
      }
      this.options.metrics?.notifyFailed.inc({ sink: this.sink });
      this.failures.hit({ reason: result.reason });
      if (!result.retryable) return this.drop(job, 'rejected', result.reason);
      if (attempt < this.config.maxAttempts) {
        const waited = await sleep(retryDelayMs(attempt, { initialMs: this.config.retryInitialMs, maxMs: this.config.retryMaxMs }, this.options.random), this.closing.signal);
        if (!waited) return;
      }
    }
    this.drop(job, 'retries_exhausted');
  }

  private async attempt(job: WebhookJob): Promise<AttemptResult> {
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'posestream-notify/1',
      [TIMESTAMP_HEADER]: String(timestamp),
      [SIGNATURE_HEADER]: signWebhook(this.config.secret, timestamp, job.body),
      [EVENT_ID_HEADER]: job.event.id,
      [EVENT_TYPE_HEADER]: job.event.type,
    };
    if (this.authorization) headers.authorization = this.authorization;
    try {
      const response = await fetch(this.target, {
        method: 'POST',
        headers,
        body: job.body,
        redirect: 'error',
        signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.config.timeoutMs)]),
      });
      await response.body?.cancel().catch(() => undefined);
      if (response.ok) return { ok: true };
      return { ok: false, retryable: retryableStatus(response.status), reason: `HTTP ${response.status}` };
    } catch (error) {
      // fetch says only "fetch failed"; the cause has the useful part (ECONNREFUSED, bad port, a TLS error).
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = error instanceof Error && error.name === 'TimeoutError' ? `no response within ${this.config.timeoutMs} ms` : (cause?.code ?? cause?.message ?? describeError(error));
      return { ok: false, retryable: true, reason };
    }
  }

  private drop(job: WebhookJob, reason: DropReason, detail?: string): void {
    this.options.metrics?.notifyDropped.inc({ sink: this.sink, reason });
    this.drops.hit({ reason, ...(detail ? { detail } : {}), eventId: job.event.id });
    job.done('dropped');
  }

  private updateDepth(): void {
    this.options.metrics?.notifyQueueDepth.set({ sink: this.sink }, this.queue.length + (this.busy ? 1 : 0));
  }
}

/** Resolves true after ms, or false at once when the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
