--[[
claimRetries: first returns expired leases to due (the reaper), then leases up to ARGV[3] due tasks in due order,
counting a delivery on each. A task already delivered max_attempts times is dead-lettered instead of handed out.
A delivery enters the task's history with its outcome (failed, fatal, lease_expired, deferred; success forgets the task),
which names the worker and the delivery number, so the claim itself writes no history entry.
Only due entries are read (ZRANGEBYSCORE -inf now LIMIT): the cost does not grow with tasks that are not yet due.

KEYS[1] due        ZSET taskId -> due time (Unix ms)
KEYS[2] inflight   ZSET taskId -> lease deadline (Unix ms)
KEYS[3] tasks      HASH taskId -> task JSON
KEYS[4] payloads   HASH taskId -> payload
KEYS[5] history    HASH taskId -> JSON array of history entries
KEYS[6] idem       HASH idempotency key -> taskId
KEYS[7] dlq        ZSET taskId -> dead-lettered time (Unix ms)
KEYS[8] stats      HASH counters (name, name|a|<agent>, name|c|<component>)
KEYS[9] audit      STREAM field "json", capped (MAXLEN ~)

ARGV[1] now (Unix ms)     ARGV[2] now ISO-8601     ARGV[3] max tasks      ARGV[4] lease (ms)
ARGV[5] worker            ARGV[6] lease seed (random hex; each lease is seed-<n>)
ARGV[7] agent filter ('' for none)                 ARGV[8] component filter ('' for none)
ARGV[9] due tasks examined at most when filtering  ARGV[10] expired leases returned at most
ARGV[11] event id base    ARGV[12] retry_exhausted channel
ARGV[13] dead-letter max age (ms)  ARGV[14] dead-letter max count  ARGV[15] history entries per task  ARGV[16] audit max length

Returns { leases returned to due, tasks dead-lettered, { task JSON, payload or nil, ... } }.
]]

--#include retryQueue.lib

local now, max, leaseMs = tonumber(ARGV[1]), tonumber(ARGV[3]), tonumber(ARGV[4])
local agent, component = ARGV[7], ARGV[8]
local L = { max_age = tonumber(ARGV[13]), max_count = tonumber(ARGV[14]), hist = tonumber(ARGV[15]), audit = ARGV[16] }

local reaped, dead = reap(now, ARGV[2], ARGV[11], ARGV[12], L, tonumber(ARGV[10]))

local scan = max
if agent ~= '' or component ~= '' then scan = tonumber(ARGV[9]) end
local ids = redis.call('ZRANGEBYSCORE', DUE, '-inf', now, 'LIMIT', 0, scan)
local out, claimed = {}, 0
for i, id in ipairs(ids) do
  if claimed >= max then break end
  local m = load(id)
  if not m then
    redis.call('ZREM', DUE, id)
  elseif (agent == '' or m.agent == agent) and (component == '' or m.component == component) then
    redis.call('ZREM', DUE, id)
    bump(m, 'pending', -1)
    if m.deliveries >= m.max_attempts then
      dead_letter(m, 'deliveries_exceeded', 'delivered ' .. m.deliveries .. ' times (max_attempts ' .. m.max_attempts .. ')',
        now, ARGV[2], ARGV[11] .. '-' .. i, ARGV[12], L)
      dead = dead + 1
    else
      m.deliveries = m.deliveries + 1
      m.state = 'in_flight'
      m.lease = ARGV[6] .. '-' .. claimed
      m.worker = ARGV[5]
      m.lease_until = now + leaseMs
      save(m)
      redis.call('ZADD', INF, m.lease_until, id)
      bump(m, 'inflight', 1)
      bump(m, 'deliveries', 1)
      out[#out + 1] = cjson.encode(m)
      out[#out + 1] = redis.call('HGET', PAY, id)
      claimed = claimed + 1
    end
  end
end
return { reaped, dead, out }
