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
