import type { Redis } from 'ioredis';
import { replyRecord } from '../../pipeline/redis/codec.js';
import { keys } from '../../pipeline/redis/keys.js';
import type { ResultStage, StageCommand, StagedResult, StreamCommit } from '../../pipeline/stages/result-stage.js';
import type { EndOfStream } from '../../pipeline/wire/v1.js';

/** What reaches the stages of one stream in one batch, in order: results to publish and an end-of-stream. */
export type StageItem = StagedResult | { eos: EndOfStream };

/**
 * Runs the worker's result stages (pipeline/stages/result-stage.ts) in their order. Each stage sees all of a
 * stream's part of the batch before the next stage does, so a later stage works on what an earlier one added (an
 * event engine on tracked persons). Saved state lives in keys.stageState(streamId), one field per stage, written
 * with one command per stream per batch inside the stream's part of the commit.
 */
export class ResultStages {
  constructor(
    private readonly redis: Redis,
    private readonly stages: readonly ResultStage[],
  ) {
    const names = stages.map((stage) => stage.name);
    const repeated = names.find((name, i) => names.indexOf(name) !== i);
    if (repeated !== undefined) throw new Error(`two result stages are named "${repeated}": names key their saved state`);
  }

  get names(): string[] {
    return this.stages.map((stage) => stage.name);
  }

  /** Hands every stage the state committed last for the stream (one HGETALL; none without stages). */
  async acquire(streamId: string): Promise<void> {
    if (this.stages.length === 0) return;
    const saved = replyRecord(await this.redis.hgetall(keys.stageState(streamId)));
    for (const stage of this.stages) {
      const state = saved[stage.name];
      await stage.acquire(streamId, typeof state === 'string' ? state : undefined);
    }
  }

  release(streamId: string): void {
    for (const stage of this.stages) stage.release(streamId);
  }

  /**
   * Runs every stage over one stream's items and returns the commands to commit with them, the state write last.
   * Throws when a stage does: then nothing of the stream's part may be committed.
   */
  async run(streamId: string, items: StageItem[]): Promise<StageCommand[]> {
    if (this.stages.length === 0 || items.length === 0) return [];
    const commands: StageCommand[] = [];
    const commit: StreamCommit = { streamId, add: (...command) => void commands.push(command) };
    for (const stage of this.stages) {
      let run: StagedResult[] = [];
      for (const item of items) {
        if ('eos' in item) {
          if (run.length > 0) await stage.process(run, commit);
          run = [];
          await stage.endOfStream(item.eos, commit);
        } else {
          run.push(item);
        }
      }
      if (run.length > 0) await stage.process(run, commit);
    }
    const stored: string[] = [];
    const deleted: string[] = [];
    for (const stage of this.stages) {
      const state = stage.save(streamId);
      if (typeof state === 'string') stored.push(stage.name, state);
      else if (state === null) deleted.push(stage.name);
    }
    if (stored.length > 0) commands.push(['HSET', keys.stageState(streamId), ...stored]);
    if (deleted.length > 0) commands.push(['HDEL', keys.stageState(streamId), ...deleted]);
    return commands;
  }
}
