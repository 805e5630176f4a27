/**
 * The fast scenarios of `posestream bench faults` (cli/bench/faults/scenarios.ts), through the same library: each
 * starts real `posestream` role processes against a private redis-server on a free port (no persistence unless the
 * scenario asks for AOF) and a gateway on a free port, does one bad thing, and must report ok.
 * Issue 10 rows: 3 (Redis restarted empty: re-seed, /readyz), 4 (REST during an outage), 5 (no password in logs),
 * 6 (Redis at maxmemory: /readyz says why, one worker warning, results resume), 7 (stale/orphaned within 10 s of an
 * ingest kill -9, then the stream moves), 11 (one outage warning and one recovery line, no unhandled error events).
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultModelPaths } from '../../pipeline/assets.js';
import { SCENARIOS } from '../../cli/bench/faults/scenarios.js';
import { skipWithout } from '../support/assets.js';

const scenario = (name: string) => SCENARIOS.find((s) => s.name === name)!;
const model = defaultModelPaths.fp32;
const noModel = !existsSync(model);
const TIMEOUT = 240_000;

describe('fault scenarios without the model', () => {
  for (const name of ['ingest-kill9-orphaned', 'redis-outage-logs', 'rest-during-outage', 'credentials-not-logged']) {
    it(name, { timeout: TIMEOUT }, async () => {
      expect(scenario(name).fast).toBe(true);
      const outcome = await scenario(name).run(model);
      expect(outcome.ok, outcome.note).toBe(true);
    });
  }
});

describe.skipIf(noModel || skipWithout('squatVideo'))('fault scenarios with a worker', () => {
  it('redis-restart-empty: the config stream comes back, /readyz not ready until re-seeded, results flow again', { timeout: TIMEOUT }, async () => {
    const outcome = await scenario('redis-restart-empty').run(model);
    expect(outcome.ok, outcome.note).toBe(true);
    expect(outcome.note).toMatch(/not seeded|unreachable/);
  });

  it('redis-oom: /readyz names the memory, the worker warns once, results resume when maxmemory is raised', { timeout: TIMEOUT }, async () => {
    const outcome = await scenario('redis-oom').run(model);
    expect(outcome.note).toMatch(/\/readyz: redis out of memory: used [\d.]+ MB of maxmemory [\d.]+ MB/);
    expect(outcome.note).toMatch(/worker OOM warnings: [01];/);
    expect(outcome.recovery_s).not.toBeNull();
    expect(outcome.note).toMatch(/; ended/);
    // Whether every lossless frame gets exactly one result across the OOM (outcome.ok) depends on the ingest side:
    // a lossless source that waits instead of restarting its pipeline (issue 10 row 6, the ingest half).
  });
});
