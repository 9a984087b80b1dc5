-- GCRA rate limit and token budget. KEYS: rate hash, admitted zset, the day's and the month's
-- usage hashes. ARGV: interval_ms, burst, turn_id, remember_ms, cost (messages this one counts
-- as: 1, plus one per attached file), day and month token limits (0: none). Returns 0 when
-- allowed, -1 (-2) when the day's (month's) tokens reached its limit, else milliseconds to
-- wait. Every admitted turn id is remembered for remember_ms, so a message counts once however
-- often it is checked: while it waits for a busy conversation, or when the platform
-- redelivers it to another process. The budget is checked first, each time: a message that
-- waited while earlier turns spent the rest is refused before its model call.

for i = 2, 1, -1 do
  local limit = tonumber(ARGV[5 + i])
  if limit > 0 then
    local used = redis.call('HMGET', KEYS[2 + i], 'in', 'out')
    if (tonumber(used[1]) or 0) + (tonumber(used[2]) or 0) >= limit then return -i end
  end
end
if redis.call('ZSCORE', KEYS[2], ARGV[3]) then return 0 end
local st = redis.call('HGET', KEYS[1], 'tat')
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval, burst, keep = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[4])
local tat = math.max(tonumber(st) or now, now) + interval * tonumber(ARGV[5])
local allow_at = tat - interval * burst
if now < allow_at then return allow_at - now end
redis.call('HSET', KEYS[1], 'tat', tat)
redis.call('PEXPIRE', KEYS[1], tat - now + 1000)
redis.call('ZADD', KEYS[2], now, ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - keep)
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -1025)
redis.call('PEXPIRE', KEYS[2], keep)
return 0
