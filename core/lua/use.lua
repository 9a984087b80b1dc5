-- Count one turn's tokens, once per turn id. KEYS: counted zset, the day's and the month's
-- usage hashes. ARGV: turn_id, now_ms, tokens in, tokens out, day and month expiry (epoch s),
-- cost (billionths of the configured currency; 0: not priced, no `c` field written), the erase
-- epoch (only USE_IF reads it), seconds of voice transcribed (`a`), tool calls made (`t`).

if redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1]) == 0 then return 0 end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -1025)
redis.call('PEXPIRE', KEYS[1], 86400000)
local cost = tonumber(ARGV[7] or '0')
local heard, tools = tonumber(ARGV[9] or '0'), tonumber(ARGV[10] or '0')
for i = 2, 3 do
  redis.call('HINCRBY', KEYS[i], 'in', ARGV[3])
  redis.call('HINCRBY', KEYS[i], 'out', ARGV[4])
  if cost > 0 then redis.call('HINCRBY', KEYS[i], 'c', cost) end
  if heard > 0 then redis.call('HINCRBY', KEYS[i], 'a', heard) end
  if tools > 0 then redis.call('HINCRBY', KEYS[i], 't', tools) end
  redis.call('EXPIREAT', KEYS[i], ARGV[3 + i])
end
return 1
