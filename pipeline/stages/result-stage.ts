import type { EndOfStream, FrameMeta, PoseResult } from '../wire/v1.js';

/**
 * The seam for work on results after inference and before they are published: a tracker (adds track ids to
 * persons), an event engine (turns tracked results into events), ... The worker runs an ordered list of stages on
 * each batch's results, per stream, in seq order, before the batch's MULTI commits (workers/inference/result-stages.ts).
 *
 * Delivery guarantee, the reason for the shape below. A stage's per-stream state is committed in the same MULTI as
 * the results it produced and the acks of their frames (as one field of keys.stageState(streamId)). A worker that
 * takes a stream over (a dead owner's, a handed-back one, or its own after a failed commit) hands each stage the
 * state committed last and reprocesses the frames that were not acknowledged. So a stage that is deterministic in
 * (saved state, results) emits every output exactly once, across hand-overs and failures, as long as it writes its
 * outputs only through `StreamCommit` and keeps everything it needs to continue in `save()`.
 */

/** One pose result about to be published, with the frame it was inferred from. */
export interface StagedResult {
  /** The result as it will be published. Stages may add fields (wire v1 is additive), never change or remove any. */
  result: PoseResult;
  /**
   * The frame: RGB24, `meta.width` x `meta.height` (the camera image scaled to fit inside the model input, aspect
   * kept; `meta.sourceWidth` x `meta.sourceHeight` is the camera's size, the unit of the result's coordinates).
   * Read it during the call; keep a copy, not the buffer, if it is needed later.
   */
  frame: { meta: FrameMeta; pixels: Buffer };
}

/** A Redis command for the stream's part of the MULTI: name and arguments, e.g. ['XADD', key, '*', 'e', json]. */
export type StageCommand = [command: string, ...args: Array<string | number | Buffer>];

/**
 * This stream's part of the batch's commit. Commands are kept until every stage has run and then committed with
 * the results; if a stage throws, nothing of the stream's part is committed. Only keys of this stream
 * (pipeline/redis/keys.ts, `{<streamId>}` hash tag) may be written here: on Redis Cluster the part is its own MULTI.
 */
export interface StreamCommit {
  readonly streamId: string;
  add(...command: StageCommand): void;
}

export interface ResultStage {
  /** Stable name: the field of keys.stageState(streamId) holding this stage's state; changing it drops saved state. */
  readonly name: string;
  /**
   * The worker now owns the stream: at start, after a rebalance, taking a dead owner's stream, or again after a
   * commit of its own failed. `saved` is what save() returned with the stream's last committed results (undefined
   * when there is none); in-memory state the stage still holds for the stream must be replaced by it.
   */
  acquire(streamId: string, saved: string | undefined): void | Promise<void>;
  /** One stream's results of one batch, in seq order (never empty; an end-of-stream splits a batch). */
  process(results: StagedResult[], commit: StreamCommit): void | Promise<void>;
  /** The stream's end-of-stream, after the results before it; later results of the id belong to a new run. */
  endOfStream(eos: EndOfStream, commit: StreamCommit): void | Promise<void>;
  /**
   * The state to commit with this batch, asked once per stream that had results or an end-of-stream in it:
   * a string is stored, null deletes the saved state, undefined leaves it as it is.
   */
  save(streamId: string): string | null | undefined;
  /** The worker no longer owns the stream (lost, handed back, removed, stopping): drop its in-memory state. */
  release(streamId: string): void;
}
