import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../../config/schema.js';
import { createMetrics, type Metrics } from '../../../../pipeline/obs/metrics.js';
import type { FrameEnd } from '../../../../pipeline/wire/v1.js';
import type { FrameMeta, StreamState } from '../../../../pipeline/wire/v1.js';
import type { FrameGeometry, FrameSource, SourceEvent, SourceStart } from '../../../../workers/ingest/frame-source.js';
import { StreamRunner, type FrameSink, type ResumePoint } from '../../../../workers/ingest/stream-runner.js';

const geometry: FrameGeometry = { sourceWidth: 8, sourceHeight: 4, width: 4, height: 2 };

/** A scripted source: each open() takes the next script; a script is a list of events, 'hang' never resolves. */
class ScriptedSource implements FrameSource {
  opens = 0;
  closes = 0;
  private events: Array<SourceEvent | 'hang'> = [];
  private pending: ((event: SourceEvent) => void) | undefined;

  constructor(
    readonly finite: boolean,
    private readonly scripts: Array<Array<SourceEvent | 'hang'> | Error>,
  ) {}

  starts: Array<SourceStart | undefined> = [];

  async open(from?: SourceStart): Promise<void> {
    this.starts.push(from);
    const script = this.scripts[this.opens++] ?? ['hang'];
    if (script instanceof Error) throw script;
    this.events = [...script];
  }

  next(): Promise<SourceEvent> {
    const event = this.events.shift() ?? 'hang';
    if (event !== 'hang') return Promise.resolve(event);
    return new Promise((resolve) => {
      this.pending = resolve;
    });
  }

  close(): void {
    this.closes += 1;
    this.pending?.({ kind: 'closed' });
    this.pending = undefined;
  }
}

class RecordingSink implements FrameSink {
  frames: FrameMeta[] = [];
  ends: FrameEnd[] = [];
  async waitForRoom(): Promise<void> {}
  async publish(meta: FrameMeta): Promise<string> {
    this.frames.push(meta);
    return `${this.frames.length}-0`;
  }
  async publishEnd(end: FrameEnd): Promise<string> {
    this.ends.push(end);
    return 'end';
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const frame = (size: FrameGeometry = geometry, extra: Partial<SourceEvent & { kind: 'frame' }> = {}): SourceEvent => ({
  kind: 'frame',
  ...size,
  pixels: Buffer.alloc(size.width * size.height * 3, 7),
  arrivedAt: Date.now(),
  capDrops: 0,
  behindDrops: 0,
  ...extra,
});
const streamOf = (input: Record<string, unknown>) => configSchema.parse({ model: { path: 'm' }, streams: [{ id: 'cam', url: '/a.mp4', ...input }] }).streams[0]!;

function runnerFor(source: FrameSource, stream = streamOf({}), firstSeq = 0, metrics?: Metrics) {
  const sink = new RecordingSink();
  const states: StreamState[] = [];
  const runner = new StreamRunner({
    stream,
    source,
    sink,
    reportState: async (state) => {
      states.push(state);
    },
    owner: 'ingest-test',
    firstSeq,
    stallTimeoutMs: 80,
    backoff: { initialMs: 5, maxMs: 20, healthyAfterMs: 1_000 },
    logger: pino({ level: 'silent' }),
    metrics,
  });
  return { runner, sink, states, names: () => states.map((state) => state.state) };
}

/** A sink with an ingest record: resume() answers from `points` in turn (then the last); publishes can be refused. */
class RecordSink extends RecordingSink {
  resumes = 0;
  fenceAfter = Infinity;
  constructor(private readonly points: Array<ResumePoint | Error>) {
    super();
  }
  async resume(): Promise<ResumePoint> {
    const point = this.points[Math.min(this.resumes++, this.points.length - 1)]!;
    if (point instanceof Error) throw point;
    return point;
  }
  override async publish(meta: FrameMeta): Promise<string> {
    if (this.frames.length >= this.fenceAfter) throw Object.assign(new Error('taken over'), { code: 'PS_INGEST_FENCED' });
    return super.publish(meta);
  }
}

describe('StreamRunner with an ingest record', () => {
  const runnerWith = (source: FrameSource, sink: RecordSink, stream = streamOf({})) => {
    const states: StreamState[] = [];
    const runner = new StreamRunner({
      stream, source, sink, reportState: async (state) => void states.push(state), owner: 'ingest-test', firstSeq: 0,
      stallTimeoutMs: 80, backoff: { initialMs: 5, maxMs: 20, healthyAfterMs: 1_000 }, logger: pino({ level: 'silent' }),
    });
    return { runner, states };
  };

  it('every (re)open starts where the record says: its seq, and a file after the position Redis accepted', async () => {
    const source = new ScriptedSource(true, [[frame(), frame(), { kind: 'error', message: 'decoder died' }], [frame(), { kind: 'eos' }]]);
    const sink = new RecordSink([{ seq: 40, afterPtsNs: 1_300_000_000 }, { seq: 42, afterPtsNs: 1_366_666_666 }]);
    const { runner } = runnerWith(source, sink);
    expect(await runner.run()).toBe('ended');
    expect(source.starts).toEqual([{ afterPtsNs: 1_300_000_000 }, { afterPtsNs: 1_366_666_666 }]);
    expect(sink.frames.map((meta) => meta.seq)).toEqual([40, 41, 42]);
    expect(sink.ends).toEqual([{ v: 1, kind: 'eos', streamId: 'cam', lastSeq: 42, reason: 'eof' }]);
  });

  it('a camera continues the seq but not the position (its media time starts anew each session)', async () => {
    const source = new ScriptedSource(false, [[frame(), 'hang']]);
    const sink = new RecordSink([{ seq: 7, afterPtsNs: 99 }]);
    const { runner } = runnerWith(source, sink, streamOf({ url: 'rtsp://cam/x' }));
    const done = runner.run();
    await waitFor(() => sink.frames.length === 1);
    runner.stop('removed');
    await done;
    expect(source.starts).toEqual([{}]);
    expect(sink.frames[0]!.seq).toBe(7);
  });

  it('fenced (a newer owner took the stream): stops at once, publishes no end and reports no state', async () => {
    const source = new ScriptedSource(true, [[frame(), frame(), frame(), frame()]]);
    const sink = new RecordSink([{ seq: 0 }]);
    sink.fenceAfter = 2;
    const { runner, states } = runnerWith(source, sink);
    expect(await runner.run()).toBe('fenced');
    expect(sink.frames).toHaveLength(2);
    expect(sink.ends).toEqual([]);
    expect(states.map((state) => state.state)).toEqual(['starting', 'running']);
    expect(source.opens).toBe(1);
    expect(source.closes).toBeGreaterThan(0);
  });

  it('fenced before the source opens (resume refused): same', async () => {
    const source = new ScriptedSource(true, [[frame()]]);
    const sink = new RecordSink([Object.assign(new Error('taken over'), { code: 'PS_INGEST_FENCED' })]);
    const { runner } = runnerWith(source, sink);
    expect(await runner.run()).toBe('fenced');
    expect(source.opens).toBe(0);
  });
});

describe('StreamRunner', () => {
  it('publishes frames with consecutive seq and ends a file with an eof marker', async () => {
    const source = new ScriptedSource(true, [[frame(), frame(), frame(), { kind: 'eos' }]]);
    const { runner, sink, states, names } = runnerFor(source, streamOf({}), 5);
    expect(await runner.run()).toBe('ended');
    expect(sink.frames.map((meta) => meta.seq)).toEqual([5, 6, 7]);
    expect(sink.frames[0]).toMatchObject({ streamId: 'cam', width: 4, height: 2, sourceWidth: 8, sourceHeight: 4, format: 'rgb24' });
    expect(sink.ends).toEqual([{ v: 1, kind: 'eos', streamId: 'cam', lastSeq: 7, reason: 'eof' }]);
    expect(names()).toEqual(['starting', 'running', 'ended']);
    expect(states.at(-1)).toMatchObject({ owner: 'ingest-test', sourceWidth: 8, sourceHeight: 4, restarts: 0 });
  });

  it('publishes each frame with its own geometry and media time; a new source size is reported in the state', async () => {
    const small: FrameGeometry = { sourceWidth: 320, sourceHeight: 240, width: 640, height: 480 };
    const wide: FrameGeometry = { sourceWidth: 640, sourceHeight: 360, width: 640, height: 360 };
    const source = new ScriptedSource(true, [[frame(wide, { ptsMs: 0 }), frame(wide, { ptsMs: 33.333 }), frame(small, { ptsMs: 66.667 }), frame(small), { kind: 'eos' }]]);
    const { runner, sink, states } = runnerFor(source);
    expect(await runner.run()).toBe('ended');
    expect(sink.frames.map(({ width, height, sourceWidth, sourceHeight }) => ({ sourceWidth, sourceHeight, width, height }))).toEqual([wide, wide, small, small]);
    expect(sink.frames.map((meta) => meta.ptsMs)).toEqual([0, 33.333, 66.667, undefined]);
    expect('ptsMs' in sink.frames[3]!).toBe(false);
    const running = states.filter((state) => state.state === 'running');
    expect(running.map(({ sourceWidth, sourceHeight }) => [sourceWidth, sourceHeight])).toEqual([[640, 360], [320, 240]]);
    expect(running[1]!.since).toBe(running[0]!.since);
    expect(states.at(-1)).toMatchObject({ state: 'ended', sourceWidth: 320, sourceHeight: 240 });
  });

  it('counts the frames dropped before each published one by reason (fps cap, undecoded under the cap, ingest behind); they get no seq', async () => {
    const metrics = createMetrics();
    const source = new ScriptedSource(true, [[frame(geometry, { capDrops: 5, skipDrops: 3 }), frame(geometry, { capDrops: 4, behindDrops: 2 }), { kind: 'eos' }]]);
    const { runner, sink } = runnerFor(source, streamOf({}), 0, metrics);
    expect(await runner.run()).toBe('ended');
    expect(sink.frames.map((meta) => meta.seq)).toEqual([0, 1]);
    const dropped = (await metrics.framesDropped.get()).values.map(({ labels, value }) => [labels.reason, value]);
    expect(dropped).toEqual(expect.arrayContaining([['fps_cap', 9], ['fps_cap_undecoded', 3], ['ingest_behind', 2]]));
  });

  it('reports error with the reason when it cannot open, retries with back-off and then runs', async () => {
    const source = new ScriptedSource(true, [new Error('Resource not found (source)'), new Error('Resource not found (source)'), [frame(), { kind: 'eos' }]]);
    const { runner, states, names } = runnerFor(source);
    expect(await runner.run()).toBe('ended');
    expect(names()).toEqual(['starting', 'error', 'error', 'running', 'ended']);
    expect(states[1]).toMatchObject({ state: 'error', reason: 'Resource not found (source)', restarts: 1 });
    expect(states[3]!.restarts).toBe(2);
  });

  it('reconnects after a failure or a stall once it was running', async () => {
    const source = new ScriptedSource(false, [[frame(), { kind: 'error', message: 'Could not read from resource' }], [frame(), 'hang'], [frame(), frame(), 'hang']]);
    const { runner, sink, states, names } = runnerFor(source, streamOf({ url: 'rtsp://cam/x' }));
    const done = runner.run();
    await waitFor(() => sink.frames.length === 4);
    expect(names()).toEqual(['starting', 'running', 'reconnecting', 'running', 'reconnecting', 'running']);
    expect(states[2]!.reason).toBe('Could not read from resource');
    expect(states[4]!.reason).toBe('no frame for 0.1 s');
    expect(sink.frames.map((meta) => meta.seq)).toEqual([0, 1, 2, 3]);
    runner.stop('released');
    expect(await done).toBe('released');
    expect(sink.ends).toEqual([]);
    expect(states.at(-1)).toMatchObject({ state: 'pending', reason: 'released by ingest-test' });
  });

  it('treats EOS from a camera as a failure, never as the end', async () => {
    const source = new ScriptedSource(false, [[frame(), { kind: 'eos' }], [frame(), 'hang']]);
    const { runner, names, sink } = runnerFor(source, streamOf({ url: 'rtsp://cam/x' }));
    const done = runner.run();
    await waitFor(() => sink.frames.length === 2);
    expect(names()).toEqual(['starting', 'running', 'reconnecting', 'running']);
    runner.stop('removed');
    expect(await done).toBe('removed');
    expect(sink.ends[0]).toMatchObject({ reason: 'removed', lastSeq: 1 });
  });

  it('stop() releases a pending pull at once and closes the source', async () => {
    const source = new ScriptedSource(false, [['hang']]);
    const { runner, names } = runnerFor(source, streamOf({ url: 'test://ball' }));
    const done = runner.run();
    await new Promise((resolve) => setTimeout(resolve, 5));
    runner.stop('disabled');
    expect(await done).toBe('disabled');
    expect(source.closes).toBeGreaterThan(0);
    expect(names()).toEqual(['starting', 'stopped']);
  });
});
