"""The Lua scripts behind the Redis store: each is atomic, and each is safe to run twice."""

from __future__ import annotations

# GCRA rate limit and token budget. KEYS: rate hash, admitted zset, the day's and the month's
# usage hashes. ARGV: interval_ms, burst, turn_id, remember_ms, cost (messages this one counts
# as: 1, plus one per attached file), day and month token limits (0: none). Returns 0 when
# allowed, -1 (-2) when the day's (month's) tokens reached its limit, else milliseconds to
# wait. Every admitted turn id is remembered for remember_ms, so a message counts once however
# often it is checked: while it waits for a busy conversation, or when the platform
# redelivers it to another process. The budget is checked first, each time: a message that
# waited while earlier turns spent the rest is refused before its model call.
RATE = """
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
"""

# Count one turn's tokens, once per turn id. KEYS: counted zset, the day's and the month's
# usage hashes. ARGV: turn_id, now_ms, tokens in, tokens out, day and month expiry (epoch s),
# cost (billionths of the configured currency; 0: not priced, no `c` field written), the erase
# epoch (only USE_IF reads it), seconds of voice transcribed (`a`), tool calls made (`t`).
USE = """
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
"""

# The same turn counted again in the totals per platform that admins see, once per person
# and turn id. KEYS: the totals' counted zset, the day's and the month's totals hashes (one
# slot of their own). ARGV: person and turn id, now_ms, platform, tokens in, tokens out, cost
# (billionths), day and month expiry (epoch s). Fields are `<platform>:in|out|c`.
TOTAL = """
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
"""

# Take the conversation lock and read it. KEYS: history, meta, turns, lock, files.
# ARGV: token, lock_ms, window, turn_id, stale token (a lock of a turn already over, or ''),
# images (how many of the newest images the window refers to are read with it).
# Returns {0, pttl, holder} when another holder has the lock, {2} when turn_id is already
# stored, else {1, messages, total, summary, summarized, {id, data, id, data...}, model,
# persona, last turn} ('' when unset).
# A conversation that never had an image costs one EXISTS: its turns parse no message here.
OPEN = """
local cur = redis.call('GET', KEYS[4])
if cur and cur ~= ARGV[1] and cur ~= ARGV[5] then
  return {0, redis.call('PTTL', KEYS[4]), cur}
end
if redis.call('ZSCORE', KEYS[3], ARGV[4]) then
  if cur then redis.call('DEL', KEYS[4]) end
  return {2}
end
redis.call('SET', KEYS[4], ARGV[1], 'PX', ARGV[2])
local msgs = redis.call('LRANGE', KEYS[1], -tonumber(ARGV[3]), -1)
local meta = redis.call('HMGET', KEYS[2], 'n', 'sum', 'upto', 'pm', 'pp', 'lt')
local files, want = {}, tonumber(ARGV[6])
if want > 0 and redis.call('EXISTS', KEYS[5]) == 1 then
  for i = #msgs, 1, -1 do
    if #files >= 2 * want then break end
    if string.find(msgs[i], '"f":[', 1, true) then
      for _, id in ipairs(cjson.decode(msgs[i]).f) do
        local data = redis.call('HGET', KEYS[5], id)
        if data and #files < 2 * want then files[#files + 1] = id; files[#files + 1] = data end
      end
    end
  end
end
return {1, msgs, meta[1] or '0', meta[2] or '', meta[3] or '0', files, meta[4] or '',
        meta[5] or '', meta[6] or ''}
"""

# Store one turn at most once. KEYS: history, meta, turns, lock, files.
# ARGV: turn_id, token, ttl_s, max_len, now_ms, title, summary, summarized (-1: keep),
# k (image count), max_images, k pairs of image id and data, then the messages.
# The turn id guards the append: a retry after a lost reply finds it and writes nothing.
# Meta `lt` names the turn whose answer is last: only that answer may be regenerated.
# Image ids start with their time in hex, so past `max_images` the oldest go first.
# Only the lock's holder writes (-1 otherwise, nothing written; 0 if a first try of this
# commit, whose reply was lost, already did): an erase takes the lock away from a turn in
# flight, so that turn cannot bring back what was erased.
COMMIT = """
if redis.call('GET', KEYS[4]) ~= ARGV[2] then
  return redis.call('ZSCORE', KEYS[3], ARGV[1]) and 0 or -1
end
local fresh = redis.call('ZADD', KEYS[3], 'NX', ARGV[5], ARGV[1]) == 1
local first = 11 + 2 * tonumber(ARGV[9])
if fresh then
  if first > 11 then
    redis.call('HSET', KEYS[5], unpack(ARGV, 11, first - 1))
    local ids = redis.call('HKEYS', KEYS[5])
    local over = #ids - tonumber(ARGV[10])
    if over > 0 then
      table.sort(ids)
      redis.call('HDEL', KEYS[5], unpack(ids, 1, over))
    end
  end
  redis.call('RPUSH', KEYS[1], unpack(ARGV, first))
  redis.call('LTRIM', KEYS[1], -tonumber(ARGV[4]), -1)
  redis.call('HINCRBY', KEYS[2], 'n', #ARGV - first + 1)
  redis.call('HSET', KEYS[2], 'at', ARGV[5])
  redis.call('HSETNX', KEYS[2], 'c', ARGV[5])
  redis.call('HSETNX', KEYS[2], 'title', ARGV[6])
  redis.call('HSET', KEYS[2], 'lt', ARGV[1])
  if ARGV[8] ~= '-1' then redis.call('HSET', KEYS[2], 'sum', ARGV[7], 'upto', ARGV[8]) end
  if redis.call('ZCARD', KEYS[3]) > 64 then redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -65) end
end
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[3]) end
redis.call('EXPIRE', KEYS[5], ARGV[3])
if redis.call('GET', KEYS[4]) == ARGV[2] then redis.call('DEL', KEYS[4]) end
return fresh and 1 or 0
"""

# Regenerate: replace the last answer, once per turn id, only if it still answers `target`.
# KEYS: history, meta, turns, lock, files. ARGV: turn_id, token, ttl_s, target, answer,
# now_ms. Returns 1 when replaced, 0 when the turn id was seen or the answer is not the last,
# -1 (nothing written) when the lock is no longer the caller's.
REPLACE = """
if redis.call('GET', KEYS[4]) ~= ARGV[2] then
  return redis.call('ZSCORE', KEYS[3], ARGV[1]) and 0 or -1
end
local done = redis.call('ZADD', KEYS[3], 'NX', ARGV[6], ARGV[1]) == 0
local last = redis.call('LINDEX', KEYS[1], -1)
local ok = not done and redis.call('HGET', KEYS[2], 'lt') == ARGV[4] and last ~= false
  and string.sub(last, 1, 8) == '{"r":"a"'
if ok then
  redis.call('LSET', KEYS[1], -1, ARGV[5])
  redis.call('HSET', KEYS[2], 'at', ARGV[6])
end
-- Only a key this script created gets a TTL: only COMMIT extends a conversation's life, in
-- step with its authors' indexes (see AUTHORS).
for _, i in ipairs({1, 2, 3, 5}) do
  if redis.call('TTL', KEYS[i]) == -1 then redis.call('EXPIRE', KEYS[i], ARGV[3]) end
end
redis.call('DEL', KEYS[4])
return ok and 1 or 0
"""

# KEYS: lock. ARGV: token, lock_ms. Extend the lock only while we still hold it.
KEEP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

# KEYS: lock. ARGV: token. Release only our own lock.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# Remove one user's messages, their images, and the replies that answered them, from a shared
# conversation. KEYS: history, meta, files, lock, authors. ARGV: user key. The summary may
# mention them, so it is dropped too. The lock goes: a turn in flight here (theirs, or one
# answered from what is being erased) is refused at its commit (COMMIT checks the lock).
# Returns the messages kept, or -1 when nothing of theirs was there.
ERASE_SHARED = """
redis.call('DEL', KEYS[4])
local author = redis.call('SREM', KEYS[5], ARGV[1]) == 1
local all, kept, skip = redis.call('LRANGE', KEYS[1], 0, -1), {}, false
for _, raw in ipairs(all) do
  local m = cjson.decode(raw)
  if m.r == 'h' then skip = (m.u == ARGV[1]) end
  if not skip then kept[#kept + 1] = raw
  elseif m.f then for _, id in ipairs(m.f) do redis.call('HDEL', KEYS[3], id) end end
end
-- Listed by a turn that was never stored: nothing of theirs here, the others' summary stays.
if #kept == #all and not author then return -1 end
local ttl = redis.call('TTL', KEYS[1])
redis.call('DEL', KEYS[1])
if #kept > 0 then
  redis.call('RPUSH', KEYS[1], unpack(kept))
  if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
end
-- Only touch a meta hash that still exists: HSET on an expired one would create a key with
-- no TTL.
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HDEL', KEYS[2], 'sum', 'upto', 'title')
  redis.call('HSET', KEYS[2], 'n', #kept)
end
return #kept
"""

# Make a one-time linking code. KEYS: codes made by this person (counter), their live code,
# everyone's attempts this minute. ARGV: code key, value "maker|expires_ms", keep_ms (how long
# Redis keeps it: past its expiry, so an expired code is told apart from a wrong one), most
# codes per window, window_ms, most attempts per minute, prefix of code keys. Returns 0 when
# made, else milliseconds to wait. The person's previous code stops working: one live code each.
LINK_CODE = """
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
"""

# Redeem a linking code, once. KEYS: the redeemer's wrong tries (hash n, until), the code,
# everyone's attempts this minute. ARGV: now_ms, most wrong tries, lock_ms, prefix of the makers'
# live-code keys, most attempts per minute, the redeemer's identity. Returns {'ok', maker},
# {'locked', until_ms}, {'busy', wait_ms}, {'expired'}, {'own'} or {'wrong', tries left}.
# Only a wrong code counts as a try; the last allowed one locks linking for lock_ms. Keys named
# in ARGV share the KEYS' hash tag, hence their slot.
LINK_CLAIM = """
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
"""

# The erase epoch, on the person's slot: a random value naming their current life in the
# store, which an erase replaces with 'erasing' and then deletes with their other keys.

# At open: join the person's current life and list the conversation in their index, so an erase
# that starts later finds it. KEYS: epoch, index. ARGV: session id, scope, ttl_s, a new random
# epoch (used if there is none). Returns the epoch, or '' while an erase runs.
ENTER = """
local epoch = redis.call('GET', KEYS[1])
if epoch == 'erasing' then return '' end
epoch = epoch or ARGV[4]
redis.call('SET', KEYS[1], epoch, 'EX', ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return epoch
"""

# At commit: list the conversation again, only if the person was not erased since the open.
# KEYS: epoch, index. ARGV: session id, scope, ttl_s, the epoch the open read ('' unknown: a
# turn this process did not open; then only the lock guards it). Returns 1, or 0 (nothing
# written) when the epoch changed.
REGISTER = """
if ARGV[4] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[4] then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
"""

# USE, only while the person's epoch is still ARGV[8] (KEYS[4]): an erased person's tokens of a
# turn in flight are not counted again. Returns -1 when it changed.
USE_IF = """
if ARGV[8] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[8] then return -1 end
""" + USE

# Before COMMIT in a shared conversation: note its author, while the turn holds the lock.
# KEYS: lock, authors. ARGV: token, user key, ttl_s. An erase removes them from the set.
AUTHORS = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
"""

# The start of an erase: refuse new turns (ENTER and REGISTER see 'erasing') and read the
# index. KEYS: epoch, index. ARGV: seconds the mark lives if the erase is cut short.
# Returns the index as {session id, scope, ...}.
ERASE_BEGIN = """
redis.call('SET', KEYS[1], 'erasing', 'EX', ARGV[1])
return redis.call('HGETALL', KEYS[2])
"""
