-- Extends a stream lease only if this process holds it. KEYS[1] lease; ARGV[1] process id, ARGV[2] lease ms.
-- Returns 1 when renewed, 0 when the lease is someone else's or gone.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end
