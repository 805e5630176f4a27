import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { eventRulesSchema, type EventRulesConfig } from '../../../../pipeline/events/config.js';
import { EventStage } from '../../../../pipeline/events/event-stage.js';
import type { EngineFrame } from '../../../../pipeline/events/frame.js';
import { rgbToI420, type FrameFormat } from '../../../../pipeline/image/i420.js';
import { decodePoseEventFields } from '../../../../pipeline/redis/codec.js';
import { keys } from '../../../../pipeline/redis/keys.js';
import type { StageCommand, StagedResult, StreamCommit } from '../../../../pipeline/stages/result-stage.js';
import { WIRE_VERSION, type PoseEvent, type PoseResult } from '../../../../pipeline/wire/v1.js';
import { sceneFrames, type TrackScript } from '../../../support/stick-figure.js';

const WIDTH = 160;
const HEIGHT = 90;

/** A tracked result as the tracker stage hands it on, with a small frame (1280x720 scaled to 160x90). */
function staged(frame: EngineFrame): StagedResult {
  return stagedAs(frame, 'rgb24');
}

function stagedAs(frame: EngineFrame, format: FrameFormat): StagedResult {
  const result: PoseResult = {
    v: WIRE_VERSION, kind: 'pose', streamId: frame.streamId, seq: frame.seq, captureTs: frame.captureTs, ...(frame.ptsMs === undefined ? {} : { ptsMs: frame.ptsMs }),
    sourceWidth: frame.sourceWidth, sourceHeight: frame.sourceHeight, persons: structuredClone(frame.persons) as PoseResult['persons'],
    timings: { decodeMs: 1, queueMs: 1, inferMs: 1, postMs: 1 }, worker: 'w', publishedTs: frame.publishedTs,
  };
  const meta = { v: WIRE_VERSION, streamId: frame.streamId, seq: frame.seq, captureTs: frame.captureTs, publishTs: frame.captureTs, decodeMs: 1, width: WIDTH, height: HEIGHT, sourceWidth: frame.sourceWidth, sourceHeight: frame.sourceHeight, format };
  // A dark gray frame (RGB 40), in the format asked for.
  const rgb = Buffer.alloc(WIDTH * HEIGHT * 3, 40);
  return { result, frame: { meta, pixels: format === 'i420' ? Buffer.from(rgbToI420(rgb, WIDTH, HEIGHT)) : rgb } };
}

function recorder(streamId: string): StreamCommit & { commands: StageCommand[] } {
  const commands: StageCommand[] = [];
  return { streamId, commands, add: (...command) => void commands.push(command) };
}

const eventsOf = (commands: StageCommand[]): PoseEvent[] =>
  commands.filter(([name]) => name === 'XADD').map((command) => decodePoseEventFields(command.slice(command.indexOf('*') + 1) as string[]));

const place = (x: number) => ({ x, floorY: 650, height: 400 });
const faller: TrackScript = {
  trackId: 4,
  keyframes: [
    { t: 0, pose: 'standing', place: place(400) },
    { t: 1, pose: 'standing', place: place(600) },
    { t: 1.6, pose: 'lying', place: place(700) },
    { t: 4, pose: 'lying', place: place(700) },
  ],
};
const frames = sceneFrames([faller], { durationSec: 4, fps: 10, streamId: 'room' });
const mat: EventRulesConfig = eventRulesSchema.parse({ zones: [{ id: 'mat', polygon: [[0.4, 0.6], [0.7, 0.6], [0.7, 1], [0.4, 1]] }] });

function stage(rules: Map<string, EventRulesConfig>, now = () => 1_700_000_000_000): EventStage {
  return new EventStage({ rules: { definition: (id) => (rules.has(id) ? { events: rules.get(id)! } : undefined) }, retentionMs: 3_600_000, snapshotQuality: 80, now });
}

/** Runs frames through a stage in batches of `batch`, handing the state to a new stage after each batch. */
async function run(batch: number, handOver: boolean, rules = new Map<string, EventRulesConfig>()): Promise<StageCommand[]> {
  const commands: StageCommand[] = [];
  let current = stage(rules);
  current.acquire('room', undefined);
  for (let i = 0; i < frames.length; i += batch) {
    const commit = recorder('room');
    await current.process(frames.slice(i, i + batch).map(staged), commit);
    commands.push(...commit.commands);
    if (handOver) {
      const saved = current.save('room');
      current = stage(rules);
      current.acquire('room', saved ?? undefined);
    }
  }
  return commands;
}

describe('event stage', () => {
  it('writes each event to the stream with age trimming, and a JPEG snapshot for a fall', async () => {
    const commands = await run(8, false);
    const events = eventsOf(commands);
    expect(events.map((event) => event.type)).toContain('fall');
    const fall = events.find((event) => event.type === 'fall')!;
    expect(fall.snapshot).toBe(true);
    const set = commands.find(([name]) => name === 'SET')!;
    expect(set.slice(0, 2)).toEqual(['SET', keys.eventSnapshot('room', fall.id)]);
    const jpeg = set[2] as Buffer;
    expect([...jpeg.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    expect(set.slice(3)).toEqual(['PX', 3_600_000]);
    const xadd = commands.find(([name]) => name === 'XADD')!;
    expect(xadd.slice(0, 4)).toEqual(['XADD', keys.poseEvents('room'), 'MINID', `${1_700_000_000_000 - 3_600_000}-0`]);
    // Snapshots only for the types configured (default: fall); posture events have none.
    expect(events.filter((event) => event.type === 'posture').every((event) => !event.snapshot)).toBe(true);
  });

  it('converts an I420 frame to RGB for the snapshot (the gray comes out gray)', async () => {
    const current = stage(new Map());
    current.acquire('room', undefined);
    const commit = recorder('room');
    await current.process(frames.map((frame) => stagedAs(frame, 'i420')), commit);
    const set = commit.commands.find(([name]) => name === 'SET');
    expect(set).toBeDefined();
    const { data, info } = await sharp(set![2] as Buffer).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([WIDTH, HEIGHT, 3]);
    // The corner is far from the drawn person: JPEG of gray 40 stays within a few levels of it.
    for (const value of data.subarray(0, 9)) expect(Math.abs(value - 40)).toBeLessThanOrEqual(3);
  });

  it('continues exactly across a hand-over after every batch: same commands as one owner', async () => {
    const single = await run(3, false);
    const handed = await run(3, true);
    expect(handed).toEqual(single);
  });

  it('picks up changed rules of the stream at the next batch, and ends zone stays at the end of stream', async () => {
    const rules = new Map<string, EventRulesConfig>();
    const current = stage(rules);
    current.acquire('room', undefined);
    await current.process(frames.slice(0, 5).map(staged), recorder('room'));
    rules.set('room', mat);
    const commit = recorder('room');
    await current.process(frames.slice(5).map(staged), commit);
    expect(eventsOf(commit.commands).filter((event) => event.zone === 'mat').map((event) => event.type)).toEqual(['zone_enter', 'occupancy']);
    const end = recorder('room');
    current.endOfStream({ v: WIRE_VERSION, kind: 'eos', streamId: 'room', lastSeq: frames.length - 1, reason: 'eof', publishedTs: 5 }, end);
    expect(eventsOf(end.commands).map((event) => [event.type, event.attributes.count ?? null])).toEqual([['zone_exit', null], ['occupancy', 0]]);
    expect(current.save('room')).toBeNull();
  });

  it('starts afresh from a state it cannot read, and says so', async () => {
    const warnings: string[] = [];
    const logger = { warn: (_fields: unknown, message: string) => warnings.push(message) } as never;
    const current = new EventStage({ rules: { definition: () => undefined }, retentionMs: 1000, snapshotQuality: 80, logger });
    current.acquire('room', '{"v":99}');
    expect(warnings).toEqual([expect.stringContaining('unreadable')]);
    await current.process(frames.slice(0, 2).map(staged), recorder('room'));
    expect(JSON.parse(current.save('room')!).lastSeq).toBe(1);
  });
});
