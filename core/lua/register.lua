-- At commit: list the conversation again, only if the person was not erased since the open.
-- KEYS: epoch, index. ARGV: session id, scope, ttl_s, the epoch the open read ('' unknown: a
-- turn this process did not open; then only the lock guards it). Returns 1, or 0 (nothing
-- written) when the epoch changed.

if ARGV[4] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[4] then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
