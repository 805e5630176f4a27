import { describe, expect, it } from 'vitest';
import { HaStateTracker } from '../../../../../workers/notify/mqtt/ha-state.js';
import { poseEvent } from '../../../../support/pose-events.js';

describe('HaStateTracker', () => {
  it('keeps a stream ON while any track is down', () => {
    const state = new HaStateTracker();
    expect(state.apply(poseEvent({ streamId: 'door', type: 'fall', trackId: 1, seq: 10 }))).toMatchObject({ kind: 'fall', on: true, tracksDown: 1 });
    expect(state.apply(poseEvent({ streamId: 'door', type: 'fall', trackId: 2, seq: 20 }))).toMatchObject({ on: true, tracksDown: 2 });
    expect(state.apply(poseEvent({ streamId: 'door', type: 'recovered', trackId: 1, seq: 30 }))).toMatchObject({ on: true, tracksDown: 1 });
    expect(state.apply(poseEvent({ streamId: 'door', type: 'recovered', trackId: 2, seq: 40 }))).toMatchObject({ on: false, tracksDown: 0 });
    expect(state.apply(poseEvent({ streamId: 'hall', type: 'fall', trackId: 1, seq: 5 }))).toMatchObject({ streamId: 'hall', on: true });
  });

  it('ignores a fall re-delivered after its recovery', () => {
    const state = new HaStateTracker();
    const fall = poseEvent({ streamId: 'door', type: 'fall', trackId: 1, seq: 10 });
    state.apply(poseEvent({ streamId: 'door', type: 'recovered', trackId: 1, seq: 50 }));
    expect(state.apply(fall)).toBeUndefined();
  });

  it('takes zone occupancy from the newest occupancy event and remembers the zones', () => {
    const state = new HaStateTracker();
    const occupancy = (seq: number, count: unknown) => poseEvent({ streamId: 'door', type: 'occupancy', zone: 'bed', seq, attributes: { count: count as number } });
    expect(state.apply(occupancy(10, 2))).toMatchObject({ kind: 'occupancy', zone: 'bed', count: 2 });
    expect(state.apply(occupancy(5, 9))).toBeUndefined();
    expect(state.apply(occupancy(12, 'two'))).toBeUndefined();
    expect(state.zones('door')).toEqual(['bed']);
    state.forget('door');
    expect(state.zones('door')).toEqual([]);
  });

  it('changes no state for other event types', () => {
    expect(new HaStateTracker().apply(poseEvent({ streamId: 'door', type: 'posture', attributes: { posture: 'sitting' } }))).toBeUndefined();
  });
});
