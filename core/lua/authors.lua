-- Before COMMIT in a shared conversation: note its author, while the turn holds the lock.
-- KEYS: lock, authors. ARGV: token, user key, ttl_s. An erase removes them from the set.

if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
