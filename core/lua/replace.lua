-- Regenerate: replace the last answer, once per turn id, only if it still answers `target`.
-- KEYS: history, meta, turns, lock, files. ARGV: turn_id, token, ttl_s, target, answer,
-- now_ms. Returns 1 when replaced, 0 when the turn id was seen or the answer is not the last,
-- -1 (nothing written) when the lock is no longer the caller's.

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
