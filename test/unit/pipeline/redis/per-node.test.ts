import { describe, expect, it } from 'vitest';
import { keys } from '../../../../pipeline/redis/keys.js';
import { keySlot } from '../../../../pipeline/redis/per-node.js';

describe('keySlot', () => {
  it('is the slot Redis Cluster computes (values from CLUSTER KEYSLOT on redis-server 7.0)', () => {
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('hello')).toBe(866);
    expect(keySlot(keys.frames('cam-1'))).toBe(6042);
    expect(keySlot(keys.streams)).toBe(2262);
    expect(keySlot('{ps:v1:bull}:ingest:wait')).toBe(12217);
  });

  it('puts every key of a stream in one slot, and the global keys together', () => {
    const id = 'door-1';
    const slots = new Set([keys.frames, keys.results, keys.preview, keys.viewers, keys.lease, keys.stageState, keys.poseEvents].map((key) => keySlot(key(id))));
    slots.add(keySlot(keys.eventSnapshot(id, 'e1')));
    expect(slots.size).toBe(1);
    expect(new Set([keys.streams, keys.streamState, keys.events, keys.workers, keys.workerInfo('w1')].map(keySlot)).size).toBe(1);
  });
});
