import { describe, expect, it } from 'vitest';
import { ORPHANED_AFTER_MS, STALE_AFTER_MS, withOwnerLiveness } from '../../../../pipeline/streams/owner-liveness.js';
import { WIRE_VERSION, type StreamState } from '../../../../pipeline/wire/v1.js';

const running: StreamState = { v: WIRE_VERSION, kind: 'state', streamId: 'cam1', state: 'running', since: 1_000, restarts: 0, owner: 'ingest-a' };

describe('withOwnerLiveness', () => {
  it('shows the reported state while the owner beats', () => {
    expect(withOwnerLiveness(running, 50_000, 50_000 + STALE_AFTER_MS - 1)).toBe(running);
  });

  it('stale after STALE_AFTER_MS of silence, orphaned after ORPHANED_AFTER_MS, with the reason', () => {
    const stale = withOwnerLiveness(running, 50_000, 50_000 + STALE_AFTER_MS);
    expect(stale.state).toBe('stale');
    expect(stale.reason).toMatch(/was running; its ingest process ingest-a has not been heard from for 4 s/);
    const orphaned = withOwnerLiveness(running, 50_000, 50_000 + ORPHANED_AFTER_MS);
    expect(orphaned.state).toBe('orphaned');
    expect(orphaned.since).toBe(50_000 + ORPHANED_AFTER_MS);
    expect(ORPHANED_AFTER_MS).toBeLessThanOrEqual(10_000);
  });

  it('an owner never seen counts from the state itself; states without an owner or not owned are left alone', () => {
    expect(withOwnerLiveness(running, undefined, 1_000 + ORPHANED_AFTER_MS).state).toBe('orphaned');
    const ended = { ...running, state: 'ended' as const };
    expect(withOwnerLiveness(ended, undefined, 1e9)).toBe(ended);
    const { owner: _owner, ...pending } = { ...running, state: 'pending' as const };
    expect(withOwnerLiveness(pending, undefined, 1e9)).toBe(pending);
  });
});
