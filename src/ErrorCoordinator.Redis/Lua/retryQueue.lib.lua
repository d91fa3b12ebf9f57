-- Retry queue helpers shared by every retry-queue script (KEYS[1..9] in the order KeySchema.RetryQueueKeys gives them).
-- Not a script of its own: RedisScripts pastes it where a script says "--#include retryQueue.lib".
local DUE, INF, TASKS, PAY, HIST, IDEM, DLQ, STATS, AUDIT = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]

-- Counters for everything, the task's agent and its component. A field back at 0 is removed (a missing field reads 0),
-- so the per-agent and per-component gauges (pending, inflight, dead) last only while that scope has tasks.
local function incr(field, d)
  if redis.call('HINCRBY', STATS, field, d) == 0 then redis.call('HDEL', STATS, field) end
end

local function bump(m, name, d)
  incr(name, d)
  incr(name .. '|a|' .. m.agent, d)
  incr(name .. '|c|' .. m.component, d)
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
