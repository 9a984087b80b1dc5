-- At open: join the person's current life and list the conversation in their index, so an erase
-- that starts later finds it. KEYS: epoch, index. ARGV: session id, scope, ttl_s, a new random
-- epoch (used if there is none). Returns the epoch, or '' while an erase runs.

local epoch = redis.call('GET', KEYS[1])
if epoch == 'erasing' then return '' end
epoch = epoch or ARGV[4]
redis.call('SET', KEYS[1], epoch, 'EX', ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return epoch
