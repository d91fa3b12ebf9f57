--[[
completeRetry: applies a worker's outcome to a task it holds a current lease on.
succeeded: publishes retry_success and forgets the task. fatal: dead-letters it at once (a poison pill).
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

-- Retry queue helpers: the same block opens every retry-queue script (KEYS[1..9] as listed above).
local DUE, INF, TASKS, PAY, HIST, IDEM, DLQ, STATS, AUDIT = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]

-- Counters for everything, the task's agent and its component.
local function bump(m, name, d)
  redis.call('HINCRBY', STATS, name, d)
  redis.call('HINCRBY', STATS, name .. '|a|' .. m.agent, d)
  redis.call('HINCRBY', STATS, name .. '|c|' .. m.component, d)
end

local function load(id)
  local j = redis.call('HGET', TASKS, id)
  if not j then return nil end
  return cjson.decode(j)
end

local function save(m) redis.call('HSET', TASKS, m.task_id, cjson.encode(m)) end

local function append(id, entry, max)
  local j = redis.call('HGET', HIST, id)
  local h = j and cjson.decode(j) or {}
  h[#h + 1] = entry
  while #h > max do table.remove(h, 1) end
  redis.call('HSET', HIST, id, cjson.encode(h))
end

local function emit(channel, ev, auditMax)
  local j = cjson.encode(ev)
  redis.call('PUBLISH', channel, j)
  redis.call('XADD', AUDIT, 'MAXLEN', '~', auditMax, '*', 'json', j)
end

local function event(kind, eid, m, iso)
  return { type = kind, event_id = eid, task_id = m.task_id, agent = m.agent, component = m.component,
           attempt = m.attempt, deliveries = m.deliveries, timestamp = iso }
end

-- Deletes every trace of a task (it succeeded, was trimmed or purged).
local function forget(m)
  redis.call('HDEL', TASKS, m.task_id)
  redis.call('HDEL', PAY, m.task_id)
  redis.call('HDEL', HIST, m.task_id)
  if redis.call('HGET', IDEM, m.idempotency_key) == m.task_id then redis.call('HDEL', IDEM, m.idempotency_key) end
end

-- Dead letters older than L.max_age, then the oldest beyond L.max_count (at most 1000 of each per call), counted as trimmed.
local function trim(now, L)
  local ids = redis.call('ZRANGEBYSCORE', DLQ, '-inf', '(' .. (now - L.max_age), 'LIMIT', 0, 1000)
  local over = redis.call('ZCARD', DLQ) - #ids - L.max_count
  if over > 0 then
    local more = redis.call('ZRANGE', DLQ, #ids, #ids + math.min(over, 1000) - 1)
    for _, id in ipairs(more) do ids[#ids + 1] = id end
  end
  for _, id in ipairs(ids) do
    redis.call('ZREM', DLQ, id)
    local m = load(id)
    if m then
      bump(m, 'dead', -1)
      bump(m, 'trimmed', 1)
      forget(m)
    end
  end
  return #ids
end

-- Moves a task (already out of due and in-flight) to the dead letters, publishes retry_exhausted, trims.
local function dead_letter(m, reason, detail, now, iso, eid, channel, L)
  m.state = 'dead_lettered'
  m.lease = nil
  m.lease_until = nil
  m.dead_at = now
  m.dead_reason = reason
  m.dead_detail = detail
  if redis.call('HGET', IDEM, m.idempotency_key) == m.task_id then redis.call('HDEL', IDEM, m.idempotency_key) end
  redis.call('ZADD', DLQ, now, m.task_id)
  save(m)
  append(m.task_id, { at = now, event = 'dead_lettered', attempt = m.attempt, delivery = m.deliveries, note = reason .. ': ' .. detail }, L.hist)
  bump(m, 'dead', 1)
  bump(m, 'dead_lettered', 1)
  local ev = event('retry_exhausted', eid, m, iso)
  ev.reason = reason
  ev.detail = detail
  emit(channel, ev, L.audit)
  trim(now, L)
end

-- The reaper: expired leases go back to due now, or to the dead letters once delivered max_attempts times.
local function reap(now, iso, eidBase, channel, L, batch)
  local ids = redis.call('ZRANGEBYSCORE', INF, '-inf', now, 'LIMIT', 0, batch)
  local requeued, dead = 0, 0
  for i, id in ipairs(ids) do
    redis.call('ZREM', INF, id)
    local m = load(id)
    if m then
      bump(m, 'inflight', -1)
      append(id, { at = now, event = 'lease_expired', attempt = m.attempt, delivery = m.deliveries, worker = m.worker }, L.hist)
      m.lease = nil
      m.lease_until = nil
      m.state = 'pending'
      m.retry_at = now
      if m.deliveries >= m.max_attempts then
        dead_letter(m, 'deliveries_exceeded', 'lease expired after ' .. m.deliveries .. ' deliveries (max_attempts ' .. m.max_attempts .. ')',
          now, iso, eidBase .. '-r' .. i, channel, L)
        dead = dead + 1
      else
        save(m)
        redis.call('ZADD', DUE, now, id)
        bump(m, 'pending', 1)
        requeued = requeued + 1
      end
    end
  end
  return requeued, dead
end
-- End of helpers.

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
local entry = { at = now, event = outcome, attempt = m.attempt, delivery = m.deliveries, worker = worker }
if ARGV[6] ~= '' then entry.error_type = ARGV[6] end
if ARGV[7] ~= '' then entry.error = ARGV[7] end
if ARGV[8] ~= '' then entry.signature = ARGV[8] end
append(id, entry, L.hist)
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
  local h = redis.call('HGET', HIST, id)
  forget(m)
  return { 'ok', 'succeeded', cjson.encode(m), 0, 0, h }
end
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
