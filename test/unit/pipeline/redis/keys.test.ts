import { describe, expect, it } from 'vitest';
import { BULL_PREFIX, keys, streamIdOfKey } from '../../../../pipeline/redis/keys.js';
import { STREAM_ID_PATTERN } from '../../../../pipeline/streams/definition.js';

/** The hash tag Redis Cluster hashes: the part between the first `{` and the next `}`. */
const hashTag = (key: string) => /\{([^}]*)\}/.exec(key)?.[1];

describe('key layout', () => {
  it('gives every key of a stream the stream id as hash tag, and the global keys one tag of their own', () => {
    const perStream = [keys.frames, keys.results, keys.preview, keys.viewers, keys.lease, keys.stageState, keys.poseEvents, keys.ingestRecord].map((key) => key('cam-1'));
    perStream.push(keys.eventSnapshot('cam-1', 'cam-1:fall:3:120'));
    expect(new Set(perStream.map(hashTag))).toEqual(new Set(['cam-1']));
    expect(new Set(perStream).size).toBe(perStream.length);
    const globals = [keys.streams, keys.streamState, keys.events, keys.workers, keys.workerInfo('host-1')];
    expect(new Set(globals.map(hashTag))).toEqual(new Set(['_global']));
    expect(STREAM_ID_PATTERN.test('_global')).toBe(false);
    expect(hashTag(`${BULL_PREFIX}:ingest:active`)).toBe('ps:v1:bull');
  });

  it('reads the stream id back from a per-stream key', () => {
    expect(streamIdOfKey(keys.results('cam_2'))).toBe('cam_2');
    expect(() => streamIdOfKey(keys.events)).toThrow(/not a per-stream key/);
  });
});
