--[[
replayDeadLetters: returns dead letters to the queue, due now, oldest first, within the fleet-wide replay rate
(ARGV[9] per minute, a sliding window in KEYS[10]). A dry run moves nothing and takes no rate.
With ARGV[6] = 1 the attempts, deliveries and failure workers start again; otherwise they are kept and max_attempts is
raised to allow one more delivery.

KEYS[1] due        ZSET taskId -> due time (Unix ms)
KEYS[2] inflight   ZSET taskId -> lease deadline (Unix ms)
KEYS[3] tasks      HASH taskId -> task JSON
KEYS[4] payloads   HASH taskId -> payload
KEYS[5] history    HASH taskId -> JSON array of history entries
KEYS[6] idem       HASH idempotency key -> taskId
KEYS[7] dlq        ZSET taskId -> dead-lettered time (Unix ms)
KEYS[8] stats      HASH counters (name, name|a|<agent>, name|c|<component>)
KEYS[9] audit      STREAM field "json", capped (MAXLEN ~)
KEYS[10] replays   ZSET of replays in the last minute, scored by Unix ms; PEXPIRE 2 minutes

ARGV[1] now (Unix ms)   ARGV[2] now ISO-8601   ARGV[3] task id ('' to filter)   ARGV[4] agent filter ('' none)
ARGV[5] component filter ('' none)   ARGV[6] 1 to reset attempts   ARGV[7] 1 for a dry run   ARGV[8] max tasks considered
ARGV[9] replays per minute   ARGV[10] dead letters examined at most   ARGV[11] event id base
ARGV[12] retry_scheduled channel   ARGV[13] history entries per task   ARGV[14] audit max length

Returns { held back by the rate, rate remaining, 1 when more may match, task id ... }.
]]

--#include retryQueue.lib

local now, iso = tonumber(ARGV[1]), ARGV[2]
local agent, component = ARGV[4], ARGV[5]
local reset, dry, max = ARGV[6] == '1', ARGV[7] == '1', tonumber(ARGV[8])
local R = KEYS[10]
redis.call('ZREMRANGEBYSCORE', R, '-inf', now - 60000)
local remaining = math.max(0, tonumber(ARGV[9]) - redis.call('ZCARD', R))

local ids
if ARGV[3] ~= '' then
  ids = { ARGV[3] }
else
  ids = redis.call('ZRANGE', DLQ, 0, tonumber(ARGV[10]) - 1)
end
local moved, limited, considered, more = {}, 0, 0, false
if ARGV[3] == '' and #ids == tonumber(ARGV[10]) then more = true end
local hist, audit = tonumber(ARGV[13]), ARGV[14]
for i, id in ipairs(ids) do
  local m = load(id)
  if m and m.state == 'dead_lettered' and (agent == '' or m.agent == agent) and (component == '' or m.component == component) then
    if considered >= max then more = true; break end
    considered = considered + 1
    if dry then
      moved[#moved + 1] = id
    elseif #moved >= remaining then
      limited = limited + 1
      more = true
    else
      redis.call('ZREM', DLQ, id)
      bump(m, 'dead', -1)
      m.state = 'pending'
      m.dead_at = nil
      m.dead_reason = nil
      m.dead_detail = nil
      m.worker = nil
      if reset then
        m.attempt = 1
        m.deliveries = 0
        m.failure_workers = {}
      else
        m.max_attempts = math.max(m.max_attempts, m.deliveries + 1)
      end
      m.retry_at = now
      save(m)
      redis.call('ZADD', DUE, now, id)
      bump(m, 'pending', 1)
      if not redis.call('HGET', IDEM, m.idempotency_key) then redis.call('HSET', IDEM, m.idempotency_key, id) end
      redis.call('ZADD', R, now, id .. ':' .. ARGV[11] .. '-' .. i)
      append(id, { at = now, event = 'replayed', attempt = m.attempt, note = reset and 'attempts reset' or 'attempts kept' }, hist)
      local ev = event('retry_scheduled', ARGV[11] .. '-' .. i, m, iso)
      ev.retry_at = iso
      ev.reason = 'replayed'
      emit(ARGV[12], ev, audit)
      moved[#moved + 1] = id
    end
  end
end
redis.call('PEXPIRE', R, 120000)
if not dry then remaining = math.max(0, remaining - #moved) end
local out = { limited, remaining, more and 1 or 0 }
for _, id in ipairs(moved) do out[#out + 1] = id end
return out
