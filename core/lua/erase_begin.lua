-- The start of an erase: refuse new turns (ENTER and REGISTER see 'erasing') and read the
-- index. KEYS: epoch, index. ARGV: seconds the mark lives if the erase is cut short.
-- Returns the index as {session id, scope, ...}.

redis.call('SET', KEYS[1], 'erasing', 'EX', ARGV[1])
return redis.call('HGETALL', KEYS[2])
