-- Live XADD that trims to an exact length and reports how many trimmed entries no consumer had read yet.
-- KEYS[1] frames stream; ARGV[1] max length; ARGV[2] consumer group; ARGV[3..] the entry's fields.
-- Returns {id, stale, length}.
local key = KEYS[1]
local maxlen = tonumber(ARGV[1])
local excess = redis.call('XLEN', key) + 1 - maxlen
local stale = 0
if excess > 0 then
  local lastDelivered = nil
  local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', key)
  if ok then
    for _, group in ipairs(groups) do
      for i = 1, #group, 2 do
        if group[i] == 'name' and group[i + 1] ~= ARGV[2] then break end
        if group[i] == 'last-delivered-id' then lastDelivered = group[i + 1] end
      end
    end
  end
  if lastDelivered == nil then
    stale = excess
  else
    -- trimmed = the oldest "excess" entries; those after the group's last-delivered id were never read
    local delivered = #redis.call('XRANGE', key, '-', lastDelivered, 'COUNT', excess)
    stale = excess - delivered
  end
end
local id = redis.call('XADD', key, 'MAXLEN', '=', maxlen, '*', unpack(ARGV, 3))
return {id, stale, redis.call('XLEN', key)}
