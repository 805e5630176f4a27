import { munkres } from 'munkres';

/**
 * Minimum-cost one-to-one assignment with a cost limit, as lap.lapjv(cost, extend_cost=True, cost_limit=L) does
 * for ByteTrack and BoT-SORT: a pair may only be matched when its cost is below `limit`, and leaving a row or a
 * column unmatched is an option the optimiser weighs, not a post-filter (a post-filter could drop a good pair
 * because the solver was forced into a bad one elsewhere).
 *
 * lapjv extends the matrix with dummies at L/2, so a matching of k pairs costs Σ cost + L/2·(n + m - 2k)
 * = Σ (cost - L) + L·(n + m)/2. Minimising it is minimising Σ (cost - L) over the matched pairs, so we solve the
 * n×m rectangular problem on cost - L (negative for allowed pairs) with forbidden pairs at 0, which a full
 * rectangular assignment uses only where leaving the row or column open is as good. Same optimum, an n×m
 * instead of an (n+m)² matrix. The solver is the `munkres` package (Hungarian algorithm, no dependencies).
 */
export interface Assignment {
  /** [row, column] pairs, row-ascending. */
  matches: Array<[number, number]>;
  unmatchedRows: number[];
  unmatchedColumns: number[];
}

/** `cost[r][c]`; Infinity (or any value >= limit) forbids the pair. */
export function assignWithLimit(cost: ReadonlyArray<ArrayLike<number>>, columns: number, limit: number): Assignment {
  const rows = cost.length;
  const rowUsed = new Uint8Array(rows);
  const columnUsed = new Uint8Array(columns);
  const matches: Array<[number, number]> = [];
  if (rows > 0 && columns > 0) {
    const reduced: Float64Array[] = [];
    let anyAllowed = false;
    for (let r = 0; r < rows; r++) {
      const source = cost[r]!;
      const line = new Float64Array(columns);
      for (let c = 0; c < columns; c++) {
        const value = source[c]!;
        if (value < limit) {
          line[c] = value - limit;
          anyAllowed = true;
        }
      }
      reduced.push(line);
    }
    if (anyAllowed) {
      for (const [r, c] of munkres(reduced)) {
        if (reduced[r]![c]! < 0) {
          matches.push([r, c]);
          rowUsed[r] = 1;
          columnUsed[c] = 1;
        }
      }
      matches.sort((a, b) => a[0] - b[0]);
    }
  }
  return { matches, unmatchedRows: unused(rowUsed), unmatchedColumns: unused(columnUsed) };
}

function unused(used: Uint8Array): number[] {
  const indices: number[] = [];
  for (let i = 0; i < used.length; i++) if (used[i] === 0) indices.push(i);
  return indices;
}
