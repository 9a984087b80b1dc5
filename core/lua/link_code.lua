-- Make a one-time linking code. KEYS: codes made by this person (counter), their live code,
-- everyone's attempts this minute. ARGV: code key, value "maker|expires_ms", keep_ms (how long
-- Redis keeps it: past its expiry, so an expired code is told apart from a wrong one), most
-- codes per window, window_ms, most attempts per minute, prefix of code keys. Returns 0 when
-- made, else milliseconds to wait. The person's previous code stops working: one live code each.

local made = redis.call('INCR', KEYS[1])
if made == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
if made > tonumber(ARGV[4]) then return math.max(redis.call('PTTL', KEYS[1]), 1) end
local all = redis.call('INCR', KEYS[3])
if all == 1 then redis.call('PEXPIRE', KEYS[3], 120000) end
if all > tonumber(ARGV[6]) then return 60000 end
local old = redis.call('GET', KEYS[2])
if old then redis.call('DEL', ARGV[7] .. old) end
redis.call('SET', ARGV[1], ARGV[2], 'PX', ARGV[3])
redis.call('SET', KEYS[2], string.sub(ARGV[1], #ARGV[7] + 1), 'PX', ARGV[3])
return 0
