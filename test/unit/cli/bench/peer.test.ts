import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatCapacityBench, type CapacityBenchResult } from '../../../../cli/bench/capacity.js';
import { formatPeerColumns, formatPipelinePeer, requirePeer } from '../../../../cli/bench/peer.js';

const row = (cameras: number, p99 = 90) => ({ cameras, min_fps: 5, mean_fps: 5, p50_ms: 60, p99_ms: p99, cpu: 0.4 * cameras });
const capacity: CapacityBenchResult = {
  source: '720p',
  fps: 5,
  max_cameras: 2,
  rows: [row(1), row(2), row(3, 400)],
  overload: { ...row(5, 900), max_fps: 5, fairness: 0.9 },
  peer_rows: [row(1, 240), row(2, 250), { ...row(3), p50_ms: Number.NaN, p99_ms: Number.NaN }, { ...row(5), min_fps: 3.25 }],
  peer: { precision: 'bf16', vid_stride: 6, versions: { ultralytics: '8.4.190' } },
  model: 'm.xml',
  precision: 'bf16',
  hint: 'THROUGHPUT',
  batch: 4,
  requests: 2,
  seconds: 20,
  load_before: [0.1],
};

/** A stand-in for the models venv's python: prints what `peer-predict --check --json` would. */
function fakePython(json: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'fake-python-')), 'python');
  writeFileSync(file, `#!/bin/sh\necho '${json}'\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('bench peer (Ultralytics)', () => {
  const saved = process.env.POSESTREAM_PYTHON;
  afterEach(() => {
    if (saved === undefined) delete process.env.POSESTREAM_PYTHON;
    else process.env.POSESTREAM_PYTHON = saved;
  });

  it('puts the peer columns right of each capacity row with the same N, and under the run past capacity', () => {
    const lines = formatCapacityBench(capacity).split('\n');
    expect(lines[1]).toContain('Ultralytics 8.4.190 predict(stream=True), one process per camera, vid_stride 6, precision bf16');
    expect(lines[2]).toBe('cameras  min fps  mean fps  p50 ms  p99 ms    cpu  |  min fps  mean fps  p50 ms  p99 ms    cpu');
    expect(lines[3]).toBe('      1     5.00      5.00      60      90   0.40  |     5.00      5.00      60     240   0.40');
    // A row that does not hold keeps its mark after both column sets; a missing latency prints '-'.
    expect(lines[5]).toMatch(/\| +5\.00 +5\.00 +- +- +1\.20 {2}\(does not hold\)$/);
    expect(lines.find((line) => line.startsWith('  Ultralytics at 5 cameras:'))).toContain('3.25');
    expect(formatCapacityBench({ ...capacity, peer_rows: undefined, peer: undefined })).not.toContain('|');
    expect(formatPeerColumns(undefined)).toBe('');
  });

  it('prints both frames/s, the ratio against its target and both precisions', () => {
    const text = formatPipelinePeer({ frames_per_s: 60, posestream_frames_per_s: 72, ratio: 1.2, target: 1.15, precision: 'bf16', posestream_precision: 'bf16', cpu_cores: 1.9, versions: { ultralytics: '8.4.190' } });
    expect(text).toContain('posestream 72.00 results/s vs Ultralytics predict(stream=True) 60.00 frames/s');
    expect(text).toContain('ratio posestream/Ultralytics = 1.200 (target >= 1.15); precision posestream bf16, Ultralytics bf16');
  });

  it('without the [ultralytics] extra, --peer fails with one line saying how to install it', async () => {
    process.env.POSESTREAM_PYTHON = fakePython('{"available": false, "versions": null, "install": "x"}');
    const error = await requirePeer().then(
      () => undefined,
      (caught: unknown) => caught as Error & { code: string },
    );
    expect(error?.code).toBe('PS_BENCH_PEER_MISSING');
    expect(error?.message).toContain("pip install -e 'models[ultralytics]'");
    expect(error?.message.split('\n')).toHaveLength(1);
    process.env.POSESTREAM_PYTHON = fakePython('{"available": true, "versions": {"ultralytics": "8.4.190"}}');
    await expect(requirePeer()).resolves.toBeUndefined();
  });
});
