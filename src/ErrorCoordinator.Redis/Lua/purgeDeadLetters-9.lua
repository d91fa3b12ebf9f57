--[[
purgeDeadLetters: deletes dead letters by id, or those dead-lettered before a time (at most ARGV[4] per call).

KEYS[1] due        ZSET taskId -> due time (Unix ms)
KEYS[2] inflight   ZSET taskId -> lease deadline (Unix ms)
KEYS[3] tasks      HASH taskId -> task JSON
KEYS[4] payloads   HASH taskId -> payload
KEYS[5] history    HASH taskId -> JSON array of history entries
KEYS[6] idem       HASH idempotency key -> taskId
KEYS[7] dlq        ZSET taskId -> dead-lettered time (Unix ms)
KEYS[8] stats      HASH counters (name, name|a|<agent>, name|c|<component>)
KEYS[9] audit      STREAM field "json", capped (MAXLEN ~)

ARGV[1] now (Unix ms)   ARGV[2] ids | age   ARGV[3] cutoff (Unix ms, for age)   ARGV[4] max per call
ARGV[5..] task ids (for ids)

Returns { purged, 1 when more are older than the cutoff }.
]]

--#include retryQueue.lib

local ids, more = {}, 0
if ARGV[2] == 'ids' then
  for i = 5, #ARGV do ids[#ids + 1] = ARGV[i] end
else
  local max = tonumber(ARGV[4])
  ids = redis.call('ZRANGEBYSCORE', DLQ, '-inf', '(' .. ARGV[3], 'LIMIT', 0, max + 1)
  if #ids > max then
    more = 1
    table.remove(ids)
  end
end
local n = 0
for _, id in ipairs(ids) do
  local m = load(id)
  if m and m.state == 'dead_lettered' then
    redis.call('ZREM', DLQ, id)
    bump(m, 'dead', -1)
    bump(m, 'purged', 1)
    forget(m)
    n = n + 1
  end
end
return { n, more }
