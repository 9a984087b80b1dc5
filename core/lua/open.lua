-- Take the conversation lock and read it. KEYS: history, meta, turns, lock, files.
-- ARGV: token, lock_ms, window, turn_id, stale token (a lock of a turn already over, or ''),
-- images (how many of the newest images the window refers to are read with it).
-- Returns {0, pttl, holder} when another holder has the lock, {2} when turn_id is already
-- stored, else {1, messages, total, summary, summarized, {id, data, id, data...}, model,
-- persona, last turn} ('' when unset).
-- A conversation that never had an image costs one EXISTS: its turns parse no message here.

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
