import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { capacityChartSvg, writeCapacityChart } from '../../../../cli/bench/capacity-chart.js';
import type { CapacityBenchResult } from '../../../../cli/bench/capacity.js';

const rows = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => ({ cameras: n, min_fps: n < 9 ? 5 : 3.9, mean_fps: n < 9 ? 5.01 : 4.6, p50_ms: 60 + n * 5, p99_ms: n < 9 ? 90 + n * 15 : 600, cpu: 0.2 * n }));
const result: CapacityBenchResult = {
  source: '720p',
  fps: 5,
  max_cameras: 8,
  rows,
  overload: { cameras: 12, min_fps: 3.2, mean_fps: 3.3, p50_ms: 300, p99_ms: 700, cpu: 1.9, max_fps: 3.4, fairness: 0.94 },
  model: 'm.xml',
  precision: 'bf16',
  hint: 'THROUGHPUT',
  batch: 4,
  requests: 2,
  seconds: 20,
  load_before: [0.1],
};

describe('capacity chart', () => {
  it('draws min and mean results/s and p99 per N (the 1.5x run included once) with both limits', () => {
    const svg = capacityChartSvg(result);
    const lines = [...svg.matchAll(/<polyline [^>]*points="([^"]+)"/g)].map((m) => m[1]!.split(' ').length);
    // Two dashed limits (2 points each), then min, mean and p99 over the 9 steps plus the run at 12 cameras.
    expect(lines).toEqual([2, 2, 10, 10, 10]);
    expect(svg).toContain('largest N that holds: 8');
    const again = capacityChartSvg({ ...result, overload: { ...result.overload!, cameras: 9 } });
    expect([...again.matchAll(/<polyline [^>]*points="([^"]+)"/g)].map((m) => m[1]!.split(' ').length)).toEqual([2, 2, 9, 9, 9]);
  });

  it('with --peer adds the Ultralytics mean results/s and p99 per N (a row without latency left out of p99)', () => {
    const peer_rows = [1, 2, 3].map((n) => ({ cameras: n, min_fps: 5, mean_fps: 4.9, p50_ms: 120, p99_ms: n < 3 ? 240 : Number.NaN, cpu: 0.4 * n }));
    const svg = capacityChartSvg({ ...result, peer_rows, peer: { precision: 'bf16', vid_stride: 6, versions: null } });
    const lines = [...svg.matchAll(/<polyline [^>]*points="([^"]+)"/g)].map((m) => m[1]!.split(' ').length);
    expect(lines).toEqual([2, 2, 10, 10, 10, 3, 2]);
    expect(svg).toContain('Ultralytics, one loop per camera: mean results/s');
    expect(capacityChartSvg(result)).not.toContain('Ultralytics');
  });

  it('writes a PNG', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'capacity-chart-')), 'chart.png');
    await writeCapacityChart(result, file);
    const meta = await sharp(file).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBeGreaterThan(400);
  });
});
