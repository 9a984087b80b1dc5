-- Redeem a linking code, once. KEYS: the redeemer's wrong tries (hash n, until), the code,
-- everyone's attempts this minute. ARGV: now_ms, most wrong tries, lock_ms, prefix of the makers'
-- live-code keys, most attempts per minute, the redeemer's identity. Returns {'ok', maker},
-- {'locked', until_ms}, {'busy', wait_ms}, {'expired'}, {'own'} or {'wrong', tries left}.
-- Only a wrong code counts as a try; the last allowed one locks linking for lock_ms. Keys named
-- in ARGV share the KEYS' hash tag, hence their slot.

local now = tonumber(ARGV[1])
local locked = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if locked > now then return {'locked', locked} end
local all = redis.call('INCR', KEYS[3])
if all == 1 then redis.call('PEXPIRE', KEYS[3], 120000) end
if all > tonumber(ARGV[5]) then return {'busy', 60000} end
local found = redis.call('GET', KEYS[2])
if found then
  local bar = string.find(found, '|', 1, true)
  local maker, expires = string.sub(found, 1, bar - 1), tonumber(string.sub(found, bar + 1))
  if maker == ARGV[6] then return {'own'} end
  redis.call('DEL', KEYS[2])
  -- Withdrawn when its maker made a newer one or was erased: it works no more.
  local live = redis.call('GET', ARGV[4] .. maker) == string.sub(KEYS[2], -8)
  if live then redis.call('DEL', ARGV[4] .. maker) end
  if expires <= now or not live then return {'expired'} end
  redis.call('DEL', KEYS[1])
  return {'ok', maker}
end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if n >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'n', 0, 'until', now + tonumber(ARGV[3]))
  return {'locked', now + tonumber(ARGV[3])}
end
return {'wrong', tonumber(ARGV[2]) - n}
