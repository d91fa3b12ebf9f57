-- configureBreaker: configure_breaker, atomically: optionally drops every stored override, then sets the given fields.
-- KEYS[1] policy HASH (overrides)   KEYS[2] state HASH (its idle TTL is refreshed with the policy's)
-- ARGV[1] '1' to drop stored overrides first   ARGV[2] idle TTL (ms)   ARGV[3..] field, value pairs
-- Returns the stored overrides after the change (flat field/value list).
if ARGV[1] == '1' then redis.call('DEL', KEYS[1]) end
if #ARGV > 2 then redis.call('HSET', KEYS[1], unpack(ARGV, 3)) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]))
return redis.call('HGETALL', KEYS[1])
