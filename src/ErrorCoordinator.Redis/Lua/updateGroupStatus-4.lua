--[[
updateGroupStatus: sets a live group's status (and note), publishes the change and appends it to the audit stream.

KEYS[1] group:<g>              HASH  (see recordFailure-18.lua for its fields)
KEYS[2] group:<g>:agents       ZSET  agent -> count (read, for the returned group)
KEYS[3] groups:last_seen       ZSET  membership means the group was not evicted
KEYS[4] audit                  STREAM field "json", MAXLEN ~ ARGV[9]

ARGV[1] group id
ARGV[2] new status (unresolved|resolved|ignored|regressed)
ARGV[3] note                   ARGV[4] 1 when a note was given, else 0
ARGV[5] status_changed_at ticks (19 digits)
ARGV[6] now ticks (19 digits): a group whose expires_at is not after it is gone
ARGV[7] JSON payload to publish and audit
ARGV[8] channel
ARGV[9] audit stream max length (approximate)
ARGV[10] how many top agents to return

Returns nil when the group does not exist (missing, expired or evicted); otherwise
{ flat HGETALL of the group, flat ZREVRANGE agents 0 ARGV[10]-1 WITHSCORES, ZCARD agents }.
]]

local g = KEYS[1]
local expires = redis.call('HGET', g, 'expires_at')
if not expires or expires <= ARGV[6] or not redis.call('ZSCORE', KEYS[3], ARGV[1]) then return nil end

redis.call('HSET', g, 'status', ARGV[2], 'status_changed_at', ARGV[5])
if ARGV[4] == '1' then redis.call('HSET', g, 'note', ARGV[3]) end
redis.call('PUBLISH', ARGV[8], ARGV[7])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[9], '*', 'json', ARGV[7])

return {
  redis.call('HGETALL', g),
  redis.call('ZREVRANGE', KEYS[2], 0, tonumber(ARGV[10]) - 1, 'WITHSCORES'),
  redis.call('ZCARD', KEYS[2]),
}
