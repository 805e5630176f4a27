/**
 * The one statistics definition every benchmark uses, so a p99 means the same in every report: nearest rank (the
 * smallest value with at least p% of the samples at or below it), no interpolation.
 */

/** Nearest-rank percentile of ascending `sorted`; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Summary {
  p50: number;
  p99: number;
  mean: number;
  max: number;
  count: number;
}

/** p50, p99, mean and max of any samples (sorted here). */
export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length),
    max: sorted.at(-1) ?? Number.NaN,
    count: sorted.length,
  };
}
