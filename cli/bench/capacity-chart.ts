import { mkdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { CapacityBenchResult } from './capacity.js';

/**
 * The capacity chart: results/s per camera (slowest and mean) on the left axis and p99 capture->result on the
 * right, against the number of cameras, with the two limits (95 % of fps, 250 ms) dashed. Drawn as SVG and
 * rasterised by sharp (librsvg), so no charting library is needed. With --peer, the Ultralytics loops' mean
 * results/s and p99 as two more lines (a second legend row).
 */

const WIDTH = 860;
const HEIGHT = 440;
const PLOT = { left: 70, right: WIDTH - 80, top: 64, bottom: HEIGHT - 60 };
const COLORS = { min: '#d62728', mean: '#1f77b4', p99: '#2ca02c', limit: '#888888', peerMean: '#9467bd', peerP99: '#8c564b' };

export function capacityChartSvg(r: CapacityBenchResult): string {
  const overload = r.overload && !r.rows.some((row) => row.cameras === r.overload!.cameras) ? [r.overload] : [];
  const rows = [...r.rows, ...overload].sort((a, b) => a.cameras - b.cameras);
  // A little room right of the last N, so its points sit inside the plot (maxCameras below).
  const peerRows = [...(r.peer_rows ?? [])].sort((a, b) => a.cameras - b.cameras);
  const maxCameras = Math.max(2, ...rows.map((row) => row.cameras), ...peerRows.map((row) => row.cameras)) * 1.05 + 0.5;
  const maxFps = niceCeiling(Math.max(r.fps * 1.1, ...rows.map((row) => row.mean_fps), ...peerRows.map((row) => row.mean_fps)));
  const maxMs = niceCeiling(Math.max(300, ...[...rows, ...peerRows].map((row) => (Number.isFinite(row.p99_ms) ? row.p99_ms : 0))));
  const x = (cameras: number) => PLOT.left + ((cameras - 0) / maxCameras) * (PLOT.right - PLOT.left);
  const yFps = (fps: number) => PLOT.bottom - (fps / maxFps) * (PLOT.bottom - PLOT.top);
  const yMs = (ms: number) => PLOT.bottom - (Math.min(ms, maxMs) / maxMs) * (PLOT.bottom - PLOT.top);
  const line = (points: Array<[number, number]>, color: string, dashed = false) =>
    `<polyline fill="none" stroke="${color}" stroke-width="2.5"${dashed ? ' stroke-dasharray="6 5"' : ''} points="${points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ')}"/>` +
    (dashed ? '' : points.map(([px, py]) => `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3.5" fill="${color}"/>`).join(''));
  const ticks = (max: number, to: (v: number) => number, side: 'left' | 'right') =>
    [0, 0.25, 0.5, 0.75, 1]
      .map((f) => {
        const value = max * f;
        const py = to(value);
        const tx = side === 'left' ? PLOT.left - 8 : PLOT.right + 8;
        return `<text x="${tx}" y="${(py + 4).toFixed(1)}" text-anchor="${side === 'left' ? 'end' : 'start'}">${trim(value)}</text>` +
          (side === 'left' ? `<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${py.toFixed(1)}" y2="${py.toFixed(1)}" stroke="#eeeeee"/>` : '');
      })
      .join('');
  const xTicks = rows.map((row) => `<text x="${x(row.cameras).toFixed(1)}" y="${PLOT.bottom + 18}" text-anchor="middle">${row.cameras}</text>`).join('');
  const legendRow = (items: Array<[string, string]>, y: number, spacing: number) =>
    items.map(([label, color], i) => `<rect x="${PLOT.left + 10 + i * spacing}" y="${y - 6}" width="14" height="4" fill="${color}"/><text x="${PLOT.left + 30 + i * spacing}" y="${y}">${label}</text>`).join('');
  const legend =
    legendRow([['slowest camera, results/s', COLORS.min], ['mean per camera, results/s', COLORS.mean], ['p99 capture->result, ms', COLORS.p99]], peerRows.length > 0 ? PLOT.top - 30 : PLOT.top - 22, 230) +
    (peerRows.length > 0 ? legendRow([['Ultralytics, one loop per camera: mean results/s', COLORS.peerMean], ['Ultralytics: p99 read->result, ms', COLORS.peerP99]], PLOT.top - 12, 345) : '');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="DejaVu Sans, sans-serif" font-size="12" fill="#222222">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="14">posestream bench capacity: ${escapeXml(r.source)} cameras at ${r.fps} fps (largest N that holds: ${r.max_cameras})</text>
${legend}
${ticks(maxFps, yFps, 'left')}${ticks(maxMs, yMs, 'right')}${xTicks}
<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${PLOT.bottom}" y2="${PLOT.bottom}" stroke="#444444"/>
<line x1="${PLOT.left}" x2="${PLOT.left}" y1="${PLOT.top}" y2="${PLOT.bottom}" stroke="#444444"/>
<line x1="${PLOT.right}" x2="${PLOT.right}" y1="${PLOT.top}" y2="${PLOT.bottom}" stroke="#444444"/>
${line([[PLOT.left, yFps(r.fps * 0.95)], [PLOT.right, yFps(r.fps * 0.95)]], COLORS.min, true)}
${line([[PLOT.left, yMs(250)], [PLOT.right, yMs(250)]], COLORS.p99, true)}
${line(rows.map((row) => [x(row.cameras), yFps(row.min_fps)]), COLORS.min)}
${line(rows.map((row) => [x(row.cameras), yFps(row.mean_fps)]), COLORS.mean)}
${line(rows.filter((row) => Number.isFinite(row.p99_ms)).map((row) => [x(row.cameras), yMs(row.p99_ms)]), COLORS.p99)}
${peerRows.length > 0 ? line(peerRows.map((row) => [x(row.cameras), yFps(row.mean_fps)]), COLORS.peerMean) : ''}
${peerRows.length > 0 ? line(peerRows.filter((row) => Number.isFinite(row.p99_ms)).map((row) => [x(row.cameras), yMs(row.p99_ms)]), COLORS.peerP99) : ''}
<text x="${(PLOT.left + PLOT.right) / 2}" y="${HEIGHT - 20}" text-anchor="middle">cameras</text>
<text x="18" y="${(PLOT.top + PLOT.bottom) / 2}" text-anchor="middle" transform="rotate(-90 18 ${(PLOT.top + PLOT.bottom) / 2})">results/s per camera (dashed: 95 % of fps)</text>
<text x="${WIDTH - 18}" y="${(PLOT.top + PLOT.bottom) / 2}" text-anchor="middle" transform="rotate(90 ${WIDTH - 18} ${(PLOT.top + PLOT.bottom) / 2})">p99 capture->result, ms (dashed: 250 ms)</text>
</svg>`.replaceAll('->', '&#8594;');
}

export async function writeCapacityChart(r: CapacityBenchResult, file: string): Promise<void> {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  await sharp(Buffer.from(capacityChartSvg(r))).png().toFile(file);
}

function niceCeiling(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(Math.max(value, 1e-9)));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function trim(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}
