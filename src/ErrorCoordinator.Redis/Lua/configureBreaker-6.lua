-- configureBreaker: configure_breaker, atomically: optionally drops every stored override, sets the given fields, and
-- refuses (writing nothing) when the result would have max_break_seconds below break_seconds. Each field's own range is
-- checked by the service before this runs; only this cross-field rule depends on what concurrent callers stored.
-- KEYS[1] state HASH  KEYS[2] window HASH  KEYS[3] reporters ZSET  KEYS[4] permits ZSET  KEYS[5] policy HASH
-- KEYS[6] audit STREAM (the component's breaker keys, as in breaker.lib; only the policy is written, the others' TTLs refreshed)
-- ARGV[1] '1' to drop stored overrides first  [2] idle TTL (ms)  [3] default break_seconds  [4] default max_break_seconds
--      [5..] field, value pairs
-- Returns the stored overrides after the change (flat field/value list), or {'conflict', break, max} when refused.
local stored = {}
if ARGV[1] ~= '1' then
  local raw = redis.call('HGETALL', KEYS[5])
  for i = 1, #raw, 2 do stored[raw[i]] = raw[i + 1] end
end
for i = 5, #ARGV, 2 do stored[ARGV[i]] = ARGV[i + 1] end
local brk = tonumber(stored.break_seconds) or tonumber(ARGV[3])
local max = tonumber(stored.max_break_seconds) or tonumber(ARGV[4])
if max < brk then return { 'conflict', tostring(brk), tostring(max) } end

if ARGV[1] == '1' then redis.call('DEL', KEYS[5]) end
if #ARGV > 4 then redis.call('HSET', KEYS[5], unpack(ARGV, 5)) end
-- The policy lives as long as the breaker: no expiry next to an isolation until reset, else at least the idle retention.
local idle = tonumber(ARGV[2])
local state_ttl = redis.call('PTTL', KEYS[1])
if state_ttl == -1 then
  redis.call('PERSIST', KEYS[5])
else
  for i = 1, 6 do
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl == -1 or (ttl >= 0 and ttl < idle) then redis.call('PEXPIRE', KEYS[i], idle) end
  end
end
return redis.call('HGETALL', KEYS[5])
