-- USE, only while the person's epoch is still ARGV[8] (KEYS[4]): an erased person's tokens of a
-- turn in flight are not counted again. Returns -1 when it changed.
-- This guard only: core/lua/__init__.py appends use.lua to it.

if ARGV[8] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[8] then return -1 end
