-- Writes a stream's state only while the stream is registered, so a late report from a stopping ingest cannot
-- resurrect it; the state always goes to the events stream.
-- KEYS[1] registry hash, KEYS[2] stream-state hash, KEYS[3] events stream (all {_global});
-- ARGV[1] stream id, ARGV[2] state JSON, ARGV[3] events MAXLEN (approximate).
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'e', ARGV[2])
