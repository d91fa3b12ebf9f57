--[[
enqueueRetry: adds a task to the retry queue, idempotent on its key, within the queue cap and the component's retry budget.

KEYS[1] due        ZSET taskId -> due time (Unix ms)
KEYS[2] inflight   ZSET taskId -> lease deadline (Unix ms)
KEYS[3] tasks      HASH taskId -> task JSON
KEYS[4] payloads   HASH taskId -> payload
KEYS[5] history    HASH taskId -> JSON array of history entries
KEYS[6] idem       HASH idempotency key -> taskId
KEYS[7] dlq        ZSET taskId -> dead-lettered time (Unix ms)
KEYS[8] stats      HASH counters (name, name|a|<agent>, name|c|<component>)
KEYS[9] audit      STREAM field "json", MAXLEN ~ ARGV[18]
KEYS[10] budget    ZSET of the component's retries in the window, scored by Unix ms; PEXPIRE 2 windows

ARGV[1] now (Unix ms)          ARGV[2] task id            ARGV[3] task JSON (state pending, attempt 1)
ARGV[4] payload                ARGV[5] 1 when a payload was given, else 0
ARGV[6] due time (Unix ms)     ARGV[7] due time ISO-8601  ARGV[8] now ISO-8601
ARGV[9] event id               ARGV[10] retry_scheduled channel   ARGV[11] retry_exhausted channel
ARGV[12] retries allowed in the window (max(floor, ratio x outcomes), computed by the caller from the outcome counts)
ARGV[13] budget window (ms)    ARGV[14] max tasks pending + in flight
ARGV[15] dead-letter max age (ms)  ARGV[16] dead-letter max count  ARGV[17] history entries kept per task
ARGV[18] audit stream max length   ARGV[19] the "enqueued" history entry (JSON)

Returns { status, task JSON or nil, retries in the window, allowed } where status is
scheduled | duplicate (the key's task is pending or in flight: returned, nothing added) | dead_lettered (max_attempts 0) |
budget_exhausted | queue_full | already_queued (task id queued under another key) | in_dead_letter.
]]

--#include retryQueue.lib

local now = tonumber(ARGV[1])
local id = ARGV[2]
local m = cjson.decode(ARGV[3])
local L = { max_age = tonumber(ARGV[15]), max_count = tonumber(ARGV[16]), hist = tonumber(ARGV[17]), audit = ARGV[18] }

local owner = redis.call('HGET', IDEM, m.idempotency_key)
if owner then
  local e = load(owner)
  if e and e.state ~= 'dead_lettered' then return { 'duplicate', cjson.encode(e), 0, 0 } end
end
local same = load(id)
if same then return { same.state == 'dead_lettered' and 'in_dead_letter' or 'already_queued', cjson.encode(same), 0, 0 } end
if redis.call('ZCARD', DUE) + redis.call('ZCARD', INF) >= tonumber(ARGV[14]) then return { 'queue_full', false, 0, 0 } end

local B, window, allowed = KEYS[10], tonumber(ARGV[13]), tonumber(ARGV[12])
redis.call('ZREMRANGEBYSCORE', B, '-inf', now - window)
local retries = redis.call('ZCARD', B)
if m.max_attempts > 0 and retries + 1 > allowed then return { 'budget_exhausted', false, retries, allowed } end

if ARGV[5] == '1' then redis.call('HSET', PAY, id, ARGV[4]) end
redis.call('HSET', HIST, id, '[' .. ARGV[19] .. ']')
bump(m, 'tasks', 1)
if m.max_attempts == 0 then
  dead_letter(m, 'attempts_exhausted', 'max_attempts is 0', now, ARGV[8], ARGV[9], ARGV[11], L)
  return { 'dead_lettered', cjson.encode(m), retries, allowed }
end

redis.call('ZADD', B, now, id .. ':' .. ARGV[9])
redis.call('PEXPIRE', B, window * 2)
save(m)
redis.call('HSET', IDEM, m.idempotency_key, id)
redis.call('ZADD', DUE, ARGV[6], id)
bump(m, 'pending', 1)
local ev = event('retry_scheduled', ARGV[9], m, ARGV[8])
ev.retry_at = ARGV[7]
emit(ARGV[10], ev, L.audit)
return { 'scheduled', cjson.encode(m), retries + 1, allowed }
