import { Queue, WaitingError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { RedisClient } from '../../pipeline/redis/client.js';
import { describeError } from '../../pipeline/errors.js';
import type { Logger } from '../../pipeline/obs/logger.js';
import { isConnectionError } from '../../pipeline/redis/health.js';
import { BULL_PREFIX, INGEST_QUEUE } from '../../pipeline/redis/keys.js';
import { nameScriptsIn } from '../../pipeline/redis/lua-scripts.js';
import type { RunOutcome } from './stream-runner.js';

/**
 * Which ingest process runs which stream, through BullMQ: one long-running job per enabled stream (jobId = stream
 * id), held by the process that runs it. A process that dies stops renewing its job locks; after LOCK_DURATION_MS
 * the stalled-job check of any surviving process (every STALLED_INTERVAL_MS) moves the job back to wait and one of
 * them takes the stream over, so a dead process's cameras move within ~LOCK + STALLED interval.
 * Every process reconciles registry -> jobs; jobIds make that idempotent, so any number of processes may do it.
 */
export const LOCK_DURATION_MS = 8_000;
export const STALLED_INTERVAL_MS = 4_000;

export interface StreamJobData {
  streamId: string;
}

export type RunStream = (streamId: string, job: { lost: AbortSignal }) => Promise<RunOutcome | 'skipped'>;

/** BullMQ rejects integer-like custom ids; stream ids cannot start with "_", so "_7" cannot collide. */
export function jobIdFor(streamId: string): string {
  return /^\d+$/.test(streamId) ? `_${streamId}` : streamId;
}

export class StreamAssignment {
  private readonly queue: Queue<StreamJobData>;
  private readonly worker: Worker<StreamJobData>;
  private readonly lost = new Map<string, AbortController>();

  constructor(options: {
    /** Non-blocking connection for adding jobs. */
    queueConnection: RedisClient;
    /** The worker's own connection; BullMQ duplicates it for its blocking fetch. */
    workerConnection: RedisClient;
    maxStreams: number;
    logger: Logger;
    runStream: RunStream;
  }) {
    const { logger } = options;
    // ioredis 6 instances satisfy BullMQ's client interface; its types are written against ioredis 5.
    this.queue = new Queue<StreamJobData>(INGEST_QUEUE, { connection: options.queueConnection as unknown as ConnectionOptions, prefix: BULL_PREFIX });
    this.worker = new Worker<StreamJobData>(INGEST_QUEUE, (job, token) => this.process(job, token, options.runStream), {
      connection: options.workerConnection as unknown as ConnectionOptions,
      prefix: BULL_PREFIX,
      concurrency: options.maxStreams,
      lockDuration: LOCK_DURATION_MS,
      stalledInterval: STALLED_INTERVAL_MS,
      // A stream job is moved back by every ingest death; it must never be failed for that.
      maxStalledCount: Number.MAX_SAFE_INTEGER,
      autorun: true,
    });
    // BullMQ's own connections (duplicates of ours) report a Redis outage here once per attempt; the outage itself
    // is logged once by the process's RedisHealth (fed by our connections), so those are not repeated. BullMQ's
    // scripts renew job locks and move stalled jobs; Redis names a failing one by its SHA1 only.
    const warn = (what: string) => (error: Error) => {
      if (isConnectionError(error)) logger.debug({ reason: describeError(error) }, what);
      else logger.warn({ reason: describeError(nameScriptsIn(error, 'a BullMQ script')) }, what);
    };
    this.worker.on('error', warn('stream assignment (BullMQ job locks, stalled jobs) failed'));
    this.queue.on('error', warn('stream queue (BullMQ) failed'));
    // The lock went to someone else (this process was stalled too long): stop the stream here, the new owner runs it.
    this.worker.on('lockRenewalFailed', (jobIds: string[]) => {
      for (const jobId of jobIds) this.lost.get(jobId)?.abort();
    });
  }

  /** Makes sure a job exists for the stream; a no-op when one is waiting or running anywhere. */
  async ensureJob(streamId: string): Promise<void> {
    await this.queue.add('stream', { streamId }, { jobId: jobIdFor(streamId), removeOnComplete: true, removeOnFail: true });
  }

  /**
   * Stops taking jobs at once; resolves when every running job has finished, so call it first and then stop the
   * streams (a released job goes back to wait without this process fetching it again).
   */
  async close(): Promise<void> {
    await this.worker.close();
    await this.queue.close();
  }

  private async process(job: Job<StreamJobData>, token: string | undefined, runStream: RunStream): Promise<RunOutcome | 'skipped'> {
    const lost = new AbortController();
    const jobId = job.id ?? jobIdFor(job.data.streamId);
    this.lost.set(jobId, lost);
    try {
      const outcome = await runStream(job.data.streamId, { lost: lost.signal });
      // fenced: a newer owner holds the stream and this process's lock on the job is gone; nothing to hand back.
      if (outcome === 'released' && !lost.signal.aborted) {
        // Back to wait, not completed: another ingest process (or this one, later) picks the stream up again.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      return outcome;
    } finally {
      this.lost.delete(jobId);
    }
  }
}
