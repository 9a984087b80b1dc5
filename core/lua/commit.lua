-- Store one turn at most once. KEYS: history, meta, turns, lock, files.
-- ARGV: turn_id, token, ttl_s, max_len, now_ms, title, summary, summarized (-1: keep),
-- k (image count), max_images, k pairs of image id and data, then the messages.
-- The turn id guards the append: a retry after a lost reply finds it and writes nothing.
-- Meta `lt` names the turn whose answer is last: only that answer may be regenerated.
-- Image ids start with their time in hex, so past `max_images` the oldest go first.
-- Only the lock's holder writes (-1 otherwise, nothing written; 0 if a first try of this
-- commit, whose reply was lost, already did): an erase takes the lock away from a turn in
-- flight, so that turn cannot bring back what was erased.

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
