-- Publishes one frame and records it in the stream's ingest record in the same atomic step, so the record is
-- always exactly what Redis accepted (workers/ingest resumes from it: ARCHITECTURE.md, "Failure guarantees").
-- KEYS[1] frames stream; KEYS[2] ingest record (hash: token, seq = next seq, pts = source position of the last
-- accepted frame in ns, source, owner, end = '<lastSeq>:<reason>' of an end marker published after the last frame).
-- ARGV[1] the caller's fencing token; ARGV[2] the frame's seq; ARGV[3] its source position in ns ('' unknown);
-- ARGV[4] live: exact MAXLEN, lossless: 0, end marker: -1 (ARGV[2] = '<lastSeq>:<reason>'); ARGV[5] consumer
-- group; ARGV[6..] the entry's fields.
-- Returns {id, stale, length, accepted}: accepted 0 = this seq (or this end marker) was already accepted (a retry
-- of a publish whose reply was lost, or a restarted file reaching its end again), nothing written. Errors: PS_INGEST_FENCED (a newer owner took the stream), PS_INGEST_RESYNC
-- (lossless: the seq is past the record's next one, so Redis lost frames it had accepted; resume from the record).
local frames, record = KEYS[1], KEYS[2]
local token = tonumber(ARGV[1])
local maxlen = tonumber(ARGV[4])
local current = redis.call('HMGET', record, 'token', 'seq', 'end')
if current[1] and tonumber(current[1]) > token then
  return redis.error_reply('PS_INGEST_FENCED ingest token ' .. ARGV[1] .. ' was superseded by ' .. current[1])
end
if maxlen < 0 then
  if current[3] == ARGV[2] then return {'', 0, redis.call('XLEN', frames), 0} end
  local endId = redis.call('XADD', frames, '*', unpack(ARGV, 6))
  redis.call('HSET', record, 'token', ARGV[1], 'end', ARGV[2])
  return {endId, 0, redis.call('XLEN', frames), 1}
end
local seq = tonumber(ARGV[2])
local nextSeq = current[2] and tonumber(current[2])
if nextSeq and seq < nextSeq then
  return {'', 0, redis.call('XLEN', frames), 0}
end
if nextSeq and seq > nextSeq and maxlen == 0 then
  return redis.error_reply('PS_INGEST_RESYNC frame ' .. ARGV[2] .. ' follows ' .. (nextSeq - 1) .. ' in the ingest record')
end
local stale = 0
local id
if maxlen > 0 then
  -- live: trim to exactly maxlen and count the trimmed entries no consumer had read yet
  local excess = redis.call('XLEN', frames) + 1 - maxlen
  if excess > 0 then
    local lastDelivered = nil
    local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', frames)
    if ok then
      for _, group in ipairs(groups) do
        for i = 1, #group, 2 do
          if group[i] == 'name' and group[i + 1] ~= ARGV[5] then break end
          if group[i] == 'last-delivered-id' then lastDelivered = group[i + 1] end
        end
      end
    end
    if lastDelivered == nil then
      stale = excess
    else
      -- trimmed = the oldest "excess" entries; those after the group's last-delivered id were never read
      local delivered = #redis.call('XRANGE', frames, '-', lastDelivered, 'COUNT', excess)
      stale = excess - delivered
    end
  end
  id = redis.call('XADD', frames, 'MAXLEN', '=', maxlen, '*', unpack(ARGV, 6))
else
  id = redis.call('XADD', frames, '*', unpack(ARGV, 6))
end
redis.call('HSET', record, 'token', ARGV[1], 'seq', seq + 1, 'pts', ARGV[3])
redis.call('HDEL', record, 'end')
return {id, stale, redis.call('XLEN', frames), 1}
