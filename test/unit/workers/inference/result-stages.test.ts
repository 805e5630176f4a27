import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { keys } from '../../../../pipeline/redis/keys.js';
import type { ResultStage, StagedResult, StreamCommit } from '../../../../pipeline/stages/result-stage.js';
import { WIRE_VERSION, type EndOfStream, type PoseResult } from '../../../../pipeline/wire/v1.js';
import { ResultStages, type StageItem } from '../../../../workers/inference/result-stages.js';

const result = (seq: number): StagedResult => ({
  result: {
    v: WIRE_VERSION, kind: 'pose', streamId: 'cam', seq, captureTs: seq, sourceWidth: 4, sourceHeight: 2, persons: [],
    timings: { decodeMs: 0, queueMs: 0, inferMs: 0, postMs: 0 }, worker: 'w', publishedTs: seq,
  },
  frame: { meta: { v: WIRE_VERSION, streamId: 'cam', seq, captureTs: seq, publishTs: seq, decodeMs: 0, width: 4, height: 2, sourceWidth: 4, sourceHeight: 2, format: 'rgb24' }, pixels: Buffer.alloc(24) },
});
const eos: EndOfStream = { v: WIRE_VERSION, kind: 'eos', streamId: 'cam', lastSeq: 2, reason: 'eof', publishedTs: 9 };

/** Numbers results per stream (the number is its state) and logs what it was told. */
class NumberingStage implements ResultStage {
  readonly log: string[] = [];
  private readonly next = new Map<string, number>();
  constructor(readonly name: string) {}
  acquire(streamId: string, saved: string | undefined) {
    this.log.push(`acquire ${streamId} ${saved}`);
    this.next.set(streamId, saved === undefined ? 0 : Number(saved));
  }
  process(results: StagedResult[], commit: StreamCommit) {
    this.log.push(`process ${results.map((r) => r.result.seq).join(',')}`);
    for (const { result } of results) {
      const n = this.next.get(result.streamId)!;
      (result as PoseResult & Record<string, unknown>)[this.name] = n;
      this.next.set(result.streamId, n + 1);
    }
    commit.add('XADD', `ps:v1:{${commit.streamId}}:${this.name}`, '*', 'n', this.next.get(commit.streamId)!);
  }
  endOfStream(end: EndOfStream) {
    this.log.push(`eos ${end.lastSeq}`);
    this.next.set(end.streamId, 0);
  }
  save(streamId: string) {
    return this.next.get(streamId) === 0 ? null : String(this.next.get(streamId));
  }
  release(streamId: string) {
    this.log.push(`release ${streamId}`);
    this.next.delete(streamId);
  }
}

const savedState = (fields: Record<string, string>) => ({ hgetall: async (key: string) => (key === keys.stageState('cam') ? fields : {}) }) as unknown as Redis;

describe('ResultStages', () => {
  it('hands each stage its saved state, runs stages in order over one stream, and saves once per stream', async () => {
    const first = new NumberingStage('a');
    const second = new NumberingStage('b');
    const stages = new ResultStages(savedState({ a: '10' }), [first, second]);
    await stages.acquire('cam');
    const items: StageItem[] = [result(0), result(1)];
    const commands = await stages.run('cam', items);
    expect(items.map((item) => 'result' in item && [(item.result as unknown as Record<string, number>).a, (item.result as unknown as Record<string, number>).b])).toEqual([[10, 0], [11, 1]]);
    expect(first.log).toEqual(['acquire cam 10', 'process 0,1']);
    expect(second.log).toEqual(['acquire cam undefined', 'process 0,1']);
    expect(commands).toEqual([
      ['XADD', 'ps:v1:{cam}:a', '*', 'n', 12],
      ['XADD', 'ps:v1:{cam}:b', '*', 'n', 2],
      ['HSET', keys.stageState('cam'), 'a', '12', 'b', '2'],
    ]);
  });

  it('splits a batch at its end-of-stream and deletes state a stage no longer has', async () => {
    const stage = new NumberingStage('a');
    const stages = new ResultStages(savedState({ a: '3' }), [stage]);
    await stages.acquire('cam');
    const commands = await stages.run('cam', [result(1), result(2), { eos }, result(0)]);
    expect(stage.log).toEqual(['acquire cam 3', 'process 1,2', 'eos 2', 'process 0']);
    expect(commands.at(-1)).toEqual(['HSET', keys.stageState('cam'), 'a', '1']);
    expect(await stages.run('cam', [{ eos }])).toEqual([['HDEL', keys.stageState('cam'), 'a']]);
  });

  it('does nothing without stages and refuses two stages of one name', async () => {
    expect(await new ResultStages(savedState({}), []).run('cam', [result(0)])).toEqual([]);
    expect(() => new ResultStages(savedState({}), [new NumberingStage('a'), new NumberingStage('a')])).toThrow(/two result stages are named "a"/);
  });
});
