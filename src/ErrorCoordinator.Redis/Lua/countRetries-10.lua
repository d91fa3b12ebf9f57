--[[
countRetries: queue figures for everything, one agent or one component (read only).

KEYS[1] due        ZSET taskId -> due time (Unix ms)
KEYS[2] inflight   ZSET taskId -> lease deadline (Unix ms)
KEYS[3] tasks      HASH taskId -> task JSON
KEYS[4] payloads   HASH taskId -> payload
KEYS[5] history    HASH taskId -> JSON array of history entries
KEYS[6] idem       HASH idempotency key -> taskId
KEYS[7] dlq        ZSET taskId -> dead-lettered time (Unix ms)
KEYS[8] stats      HASH counters (name, name|a|<agent>, name|c|<component>)
KEYS[9] audit      STREAM field "json", capped (MAXLEN ~)
KEYS[10] budget    ZSET of the component's retries in the window (a placeholder without a component)

ARGV[1] now (Unix ms)   ARGV[2] agent ('' none)   ARGV[3] component ('' none; takes precedence)
ARGV[4] budget window (ms)   ARGV[5] due tasks examined at most for a filtered due count

Returns { pending, due now, 1 when due now is exact, in flight, dead letters, trimmed, tasks, deliveries, succeeded,
dead_lettered, retries in the budget window }.
]]

local DUE, INF, TASKS, DLQ, STATS = KEYS[1], KEYS[2], KEYS[3], KEYS[7], KEYS[8]
local now, agent, component = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local scope = ''
if component ~= '' then scope = '|c|' .. component elseif agent ~= '' then scope = '|a|' .. agent end

local c = redis.call('HMGET', STATS, 'pending' .. scope, 'inflight' .. scope, 'dead' .. scope, 'trimmed' .. scope,
  'tasks' .. scope, 'deliveries' .. scope, 'succeeded' .. scope, 'dead_lettered' .. scope)
for i = 1, #c do c[i] = tonumber(c[i]) or 0 end

local pending, inflight, dead, due, exact
if scope == '' then
  pending = redis.call('ZCARD', DUE)
  inflight = redis.call('ZCARD', INF)
  dead = redis.call('ZCARD', DLQ)
  due = redis.call('ZCOUNT', DUE, '-inf', now)
  exact = 1
else
  pending, inflight, dead = c[1], c[2], c[3]
  local cap = tonumber(ARGV[5])
  local ids = redis.call('ZRANGEBYSCORE', DUE, '-inf', now, 'LIMIT', 0, cap)
  due = 0
  exact = (#ids < cap) and 1 or 0
  for s = 1, #ids, 500 do
    local metas = redis.call('HMGET', TASKS, unpack(ids, s, math.min(s + 499, #ids)))
    for _, j in ipairs(metas) do
      if j then
        local m = cjson.decode(j)
        if (component ~= '' and m.component == component) or (component == '' and m.agent == agent) then due = due + 1 end
      end
    end
  end
end
local recent = 0
if component ~= '' then recent = redis.call('ZCOUNT', KEYS[10], '(' .. (now - tonumber(ARGV[4])), '+inf') end
return { pending, due, exact, inflight, dead, c[4], c[5], c[6], c[7], c[8], recent }
