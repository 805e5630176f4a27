import { describe, expect, it } from 'vitest';
import { assignWithLimit } from '../../../../pipeline/tracking/assignment.js';
import { seededRandom } from './synthetic.js';

/** The best total of Σ (cost - limit) over every partial matching of allowed pairs, by enumeration. */
function bruteForce(cost: Float64Array[], columns: number, limit: number): number {
  const best = (row: number, used: Set<number>): number => {
    if (row === cost.length) return 0;
    let value = best(row + 1, used); // leave this row open
    for (let c = 0; c < columns; c++) {
      if (used.has(c) || !(cost[row]![c]! < limit)) continue;
      used.add(c);
      value = Math.min(value, cost[row]![c]! - limit + best(row + 1, used));
      used.delete(c);
    }
    return value;
  };
  return best(0, new Set());
}

describe('assignWithLimit', () => {
  it('finds the optimum where picking the cheapest pair first would not', () => {
    // Greedy takes (0,0)=0.1 and is left with (1,1)=0.9 (total 1.0); the optimum is (0,1)+(1,0) = 0.2 + 0.3.
    const result = assignWithLimit([Float64Array.of(0.1, 0.2), Float64Array.of(0.3, 0.9)], 2, 1);
    expect(result.matches).toEqual([[0, 1], [1, 0]]);
    expect(result.unmatchedRows).toEqual([]);
    expect(result.unmatchedColumns).toEqual([]);
  });

  it('never matches a pair at or above the limit and leaves both sides unmatched instead', () => {
    const result = assignWithLimit([Float64Array.of(0.85, 0.3), Float64Array.of(0.9, 0.95)], 2, 0.8);
    expect(result.matches).toEqual([[0, 1]]);
    expect(result.unmatchedRows).toEqual([1]);
    expect(result.unmatchedColumns).toEqual([0]);
  });

  it('weighs leaving a pair open against forcing a worse pair elsewhere (lapjv extend_cost semantics)', () => {
    // Both rows matched: (0,1) + (1,0) = 0.2 + 0.65 = 0.85. Row 1 and column 1 left open: 0.1 + 0.35 + 0.35 = 0.8.
    // A plain assignment followed by a cost filter would keep 0.85 (both pairs are under the limit).
    const result = assignWithLimit([Float64Array.of(0.1, 0.2), Float64Array.of(0.65, Infinity)], 2, 0.7);
    expect(result.matches).toEqual([[0, 0]]);
    expect(result.unmatchedRows).toEqual([1]);
    expect(result.unmatchedColumns).toEqual([1]);
  });

  it('reaches the optimum of lapjv extend_cost on random problems (checked by enumeration)', () => {
    const random = seededRandom(3);
    for (let trial = 0; trial < 300; trial++) {
      const rows = Math.floor(random() * 6);
      const columns = Math.floor(random() * 6);
      const limit = 0.5 + random() * 0.5;
      const cost = Array.from({ length: rows }, () => Float64Array.from({ length: columns }, () => (random() < 0.2 ? Infinity : random())));
      const result = assignWithLimit(cost, columns, limit);
      const total = result.matches.reduce((sum, [r, c]) => sum + cost[r]![c]! - limit, 0);
      expect(total).toBeCloseTo(bruteForce(cost, columns, limit), 9);
      for (const [r, c] of result.matches) expect(cost[r]![c]!).toBeLessThan(limit);
      expect(result.matches.length + result.unmatchedRows.length).toBe(rows);
      expect(result.matches.length + result.unmatchedColumns.length).toBe(columns);
    }
  });

  it('handles rectangular and empty problems', () => {
    const wide = assignWithLimit([Float64Array.of(0.5, 0.1, 0.4)], 3, 1);
    expect(wide.matches).toEqual([[0, 1]]);
    expect(wide.unmatchedColumns).toEqual([0, 2]);
    const tall = assignWithLimit([Float64Array.of(0.5), Float64Array.of(0.2), Float64Array.of(0.9)], 1, 1);
    expect(tall.matches).toEqual([[1, 0]]);
    expect(tall.unmatchedRows).toEqual([0, 2]);
    expect(assignWithLimit([], 2, 1)).toEqual({ matches: [], unmatchedRows: [], unmatchedColumns: [0, 1] });
    expect(assignWithLimit([new Float64Array(0)], 0, 1)).toEqual({ matches: [], unmatchedRows: [0], unmatchedColumns: [] });
  });
});
