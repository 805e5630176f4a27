-- A live stream's read: deliver its newest unread frame to this consumer and drop the older unread frames, so a
-- worker that fell behind infers what the camera sees now instead of what it saw up to liveQueueLength frames ago.
-- End-of-stream markers (entries without the pixel field) are never dropped; they come back with the kept frame,
-- in stream order. Atomic: a dropped frame is never delivered, a kept one is pending for this consumer.
-- KEYS[1] frames stream; ARGV[1] consumer group; ARGV[2] consumer; ARGV[3] pixel field name; ARGV[4] read at most.
-- Returns {entries (XREADGROUP shape), dropped}.
local key = KEYS[1]
local reply = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', tonumber(ARGV[4]), 'STREAMS', key, '>')
if not reply then return {{}, 0} end
local entries = reply[1][2]
local function isFrame(entry)
  local fields = entry[2]
  for i = 1, #fields, 2 do
    if fields[i] == ARGV[3] then return true end
  end
  return false
end
local newestFrame = 0
for i = #entries, 1, -1 do
  if isFrame(entries[i]) then
    newestFrame = i
    break
  end
end
local kept, dropped = {}, {}
for i, entry in ipairs(entries) do
  if i < newestFrame and isFrame(entry) then dropped[#dropped + 1] = entry[1] else kept[#kept + 1] = entry end
end
if #dropped > 0 then
  redis.call('XACK', key, ARGV[1], unpack(dropped))
  redis.call('XDEL', key, unpack(dropped))
end
return {kept, #dropped}
