-- The langchain-redis backend's (core/langchain_redis_store.py) end of a turn.
-- Once the messages are stored: meta as COMMIT keeps it, then free the lock. KEYS: meta,
-- turns, lock. ARGV: token, ttl_s, now_ms, title, summary, summarized (-1: keep), count,
-- turn id (its answer is now the last one).

redis.call('HINCRBY', KEYS[1], 'n', ARGV[7])
redis.call('HSET', KEYS[1], 'lt', ARGV[8])
redis.call('HSET', KEYS[1], 'at', ARGV[3])
redis.call('HSETNX', KEYS[1], 'c', ARGV[3])
redis.call('HSETNX', KEYS[1], 'title', ARGV[4])
if ARGV[6] ~= '-1' then redis.call('HSET', KEYS[1], 'sum', ARGV[5], 'upto', ARGV[6]) end
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -65)
for i = 1, 2 do redis.call('EXPIRE', KEYS[i], ARGV[2]) end
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
return 1
