-- Deletes a stream lease only if this process holds it. KEYS[1] lease; ARGV[1] process id. Returns 1 if deleted.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end
