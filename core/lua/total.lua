-- The same turn counted again in the totals per platform that admins see, once per person
-- and turn id. KEYS: the totals' counted zset, the day's and the month's totals hashes (one
-- slot of their own). ARGV: person and turn id, now_ms, platform, tokens in, tokens out, cost
-- (billionths), day and month expiry (epoch s). Fields are `<platform>:in|out|c`.

if redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1]) == 0 then return 0 end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -65537)
redis.call('PEXPIRE', KEYS[1], 86400000)
local cost = tonumber(ARGV[6])
for i = 2, 3 do
  redis.call('HINCRBY', KEYS[i], ARGV[3] .. ':in', ARGV[4])
  redis.call('HINCRBY', KEYS[i], ARGV[3] .. ':out', ARGV[5])
  if cost > 0 then redis.call('HINCRBY', KEYS[i], ARGV[3] .. ':c', cost) end
  redis.call('EXPIREAT', KEYS[i], ARGV[5 + i])
end
return 1
