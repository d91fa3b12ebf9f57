--[[
completeRetry: applies a worker's outcome to a task it holds a current lease on.
succeeded: publishes retry_success and forgets the task (its history with it). fatal: dead-letters it at once (a poison pill).
failed: records the error signature against the worker; dead-letters when the same signature failed on ARGV[23] distinct
workers (poison pill), when the attempt was the last (attempts exhausted) or when the component's retry budget is spent;
otherwise schedules the next attempt after ARGV[10] ms and publishes retry_scheduled.

KEYS[1] due        ZSET taskId -> due time (Unix ms)
KEYS[2] inflight   ZSET taskId -> lease deadline (Unix ms)
KEYS[3] tasks      HASH taskId -> task JSON
KEYS[4] payloads   HASH taskId -> payload
KEYS[5] history    HASH taskId -> JSON array of history entries
KEYS[6] idem       HASH idempotency key -> taskId
KEYS[7] dlq        ZSET taskId -> dead-lettered time (Unix ms)
KEYS[8] stats      HASH counters (name, name|a|<agent>, name|c|<component>)
KEYS[9] audit      STREAM field "json", capped (MAXLEN ~)
KEYS[10] budget    ZSET of the task's component's retries in the window (a placeholder for succeeded/fatal)

ARGV[1] now (Unix ms)   ARGV[2] now ISO-8601   ARGV[3] task id   ARGV[4] lease   ARGV[5] succeeded | failed | fatal
ARGV[6] error type ('' none)   ARGV[7] error ('' none)   ARGV[8] error signature ('' none)
ARGV[9] the attempt the caller read (-1: do not check)   ARGV[10] next delay (ms)   ARGV[11] next due time ISO-8601
ARGV[12] retries allowed in the window   ARGV[13] budget window (ms)   ARGV[14] the component the caller read
ARGV[15] event id   ARGV[16] retry_scheduled channel   ARGV[17] retry_success channel   ARGV[18] retry_exhausted channel
ARGV[19] dead-letter max age (ms)   ARGV[20] dead-letter max count   ARGV[21] history entries per task   ARGV[22] audit max length
ARGV[23] distinct workers that make a poison pill

Returns { status, result, task JSON, retries in the window, allowed, history JSON } where status is
ok | missing | foreign (not leased with this token) | expired (lease deadline passed) | changed (attempt or component differ
from what the caller read), and result is succeeded | rescheduled | dead_lettered.
]]

--#include retryQueue.lib

local now, id, lease, outcome = tonumber(ARGV[1]), ARGV[3], ARGV[4], ARGV[5]
local iso, eid = ARGV[2], ARGV[15]
local L = { max_age = tonumber(ARGV[19]), max_count = tonumber(ARGV[20]), hist = tonumber(ARGV[21]), audit = ARGV[22] }

local m = load(id)
if not m then return { 'missing' } end
if m.state ~= 'in_flight' or m.lease ~= lease then return { 'foreign', '', cjson.encode(m) } end
if m.lease_until <= now then return { 'expired', '', cjson.encode(m) } end
local expected = tonumber(ARGV[9])
if expected >= 0 and (m.attempt ~= expected or m.component ~= ARGV[14]) then return { 'changed', '', cjson.encode(m) } end

redis.call('ZREM', INF, id)
bump(m, 'inflight', -1)
local worker = m.worker
m.state = 'pending'
m.lease = nil
m.lease_until = nil

local function dead(reason, detail, retries, allowed)
  dead_letter(m, reason, detail, now, iso, eid, ARGV[18], L)
  return { 'ok', 'dead_lettered', cjson.encode(m), retries or 0, allowed or 0, redis.call('HGET', HIST, id) }
end

if outcome == 'succeeded' then
  bump(m, 'succeeded', 1)
  local ev = event('retry_success', eid, m, iso)
  ev.worker = worker
  emit(ARGV[17], ev, L.audit)
  forget(m)
  return { 'ok', 'succeeded', cjson.encode(m), 0, 0, false }
end

-- failed or fatal: the attempt and its error go into the history.
local entry = { at = now, event = outcome, attempt = m.attempt, delivery = m.deliveries, worker = worker }
if ARGV[6] ~= '' then entry.error_type = ARGV[6] end
if ARGV[7] ~= '' then entry.error = ARGV[7] end
if ARGV[8] ~= '' then entry.signature = ARGV[8] end
append(id, entry, L.hist)
if outcome == 'fatal' then
  local detail = ARGV[7]
  if detail == '' then detail = 'reported fatal by ' .. worker end
  return dead('fatal', detail)
end

-- failed
local poison = tonumber(ARGV[23])
local sig = ARGV[8]
if sig ~= '' then
  local fw = m.failure_workers or {}
  local list = fw[sig] or {}
  local seen = false
  for _, w in ipairs(list) do if w == worker then seen = true end end
  if not seen and #list < poison then list[#list + 1] = worker end
  fw[sig] = list
  local count = 0
  for _ in pairs(fw) do count = count + 1 end
  for k in pairs(fw) do
    if count <= 10 then break end
    if k ~= sig then fw[k] = nil; count = count - 1 end
  end
  m.failure_workers = fw
  if #list >= poison then
    return dead('poison_pill', 'the same error failed on ' .. #list .. ' distinct workers (' .. table.concat(list, ', ') .. ')')
  end
end
if m.attempt >= m.max_attempts then
  return dead('attempts_exhausted', 'attempt ' .. m.attempt .. ' of ' .. m.max_attempts .. ' failed')
end

local B, window, allowed = KEYS[10], tonumber(ARGV[13]), tonumber(ARGV[12])
redis.call('ZREMRANGEBYSCORE', B, '-inf', now - window)
local retries = redis.call('ZCARD', B)
if retries + 1 > allowed then
  return dead('budget_exhausted', 'retry budget of ' .. m.component .. ' exhausted (' .. retries .. ' of ' .. allowed .. ' retries in the last minute)', retries, allowed)
end
redis.call('ZADD', B, now, id .. ':' .. eid)
redis.call('PEXPIRE', B, window * 2)

local delay = tonumber(ARGV[10])
m.attempt = m.attempt + 1
m.prev_delay_ms = delay
m.retry_at = now + delay
m.worker = nil
save(m)
redis.call('ZADD', DUE, m.retry_at, id)
bump(m, 'pending', 1)
local ev = event('retry_scheduled', eid, m, iso)
ev.retry_at = ARGV[11]
emit(ARGV[16], ev, L.audit)
return { 'ok', 'rescheduled', cjson.encode(m), retries + 1, allowed, redis.call('HGET', HIST, id) }
