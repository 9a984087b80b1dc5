-- Remove one user's messages, their images, and the replies that answered them, from a shared
-- conversation. KEYS: history, meta, files, lock, authors. ARGV: user key. The summary may
-- mention them, so it is dropped too. The lock goes: a turn in flight here (theirs, or one
-- answered from what is being erased) is refused at its commit (COMMIT checks the lock).
-- Returns the messages kept, or -1 when nothing of theirs was there.

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
