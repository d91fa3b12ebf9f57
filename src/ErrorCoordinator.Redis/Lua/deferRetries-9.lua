--[[
deferRetries: puts leased tasks back in due until a later time (their component's breaker is open), undoing the
delivery the claim counted. A task whose lease no longer matches is skipped.

KEYS[1] due        ZSET taskId -> due time (Unix ms)
KEYS[2] inflight   ZSET taskId -> lease deadline (Unix ms)
KEYS[3] tasks      HASH taskId -> task JSON
KEYS[4] payloads   HASH taskId -> payload
KEYS[5] history    HASH taskId -> JSON array of history entries
KEYS[6] idem       HASH idempotency key -> taskId
KEYS[7] dlq        ZSET taskId -> dead-lettered time (Unix ms)
KEYS[8] stats      HASH counters (name, name|a|<agent>, name|c|<component>)
KEYS[9] audit      STREAM field "json", capped (MAXLEN ~)

ARGV[1] now (Unix ms)   ARGV[2] history entries per task
ARGV[3..] groups of four: task id, lease, due time (Unix ms), note

Returns the number of tasks deferred.
]]

--#include retryQueue.lib

local now, hist = tonumber(ARGV[1]), tonumber(ARGV[2])
local n = 0
for i = 3, #ARGV, 4 do
  local id, lease, untilMs, note = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
  local m = load(id)
  if m and m.state == 'in_flight' and m.lease == lease then
    redis.call('ZREM', INF, id)
    bump(m, 'inflight', -1)
    bump(m, 'deliveries', -1)
    append(id, { at = now, event = 'deferred', attempt = m.attempt, delivery = m.deliveries, worker = m.worker, retry_at = untilMs, note = note }, hist)
    m.deliveries = m.deliveries - 1
    m.state = 'pending'
    m.lease = nil
    m.lease_until = nil
    m.worker = nil
    m.retry_at = untilMs
    save(m)
    redis.call('ZADD', DUE, untilMs, id)
    bump(m, 'pending', 1)
    n = n + 1
  end
end
return n
