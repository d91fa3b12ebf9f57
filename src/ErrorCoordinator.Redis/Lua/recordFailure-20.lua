--[[
recordFailure: records one error report atomically (event, indexes, group, counters, publish, audit).

KEYS[1]  events                 HASH  eventId -> event JSON
KEYS[2]  events:expiry          ZSET  eventId scored by expires_at ms
KEYS[3]  idx:time               ZSET  eventId scored by occurred_at ms (every event)
KEYS[4]  idx:agent:<a>          ZSET
KEYS[5]  idx:component:<c>      ZSET  (skipped when ARGV[11] = 0)
KEYS[6]  idx:group:<g>          ZSET
KEYS[7]  idx:task:<t>           ZSET  (skipped when ARGV[12] = 0)
KEYS[8]  idx:severity:<s>       ZSET
KEYS[9]  idx:category:<c>       ZSET
KEYS[10] group:<g>              HASH  signature, error_type, count, first_seen, last_seen, status, sample_message,
                                      component, severity, category, note, status_changed_at, regressed_at, expires_at
                                      (timestamps as 19-digit UTC .NET ticks, so they compare as strings)
KEYS[11] group:<g>:agents       ZSET  agent -> event count
KEYS[12] group:<g>:components   SET
KEYS[13] group:<g>:samples      LIST  eventIds, newest first, capped at ARGV[22]
KEYS[14] group:<g>:hist         HASH  hour start ms -> count (hours before ARGV[28] are trimmed)
KEYS[15] groups:last_seen       ZSET  groupId scored by last_seen ms
KEYS[16] groups:first_seen      ZSET  groupId scored by first_seen ms
KEYS[17] groups:count           ZSET  groupId scored by count
KEYS[18] groups:expiry          ZSET  groupId scored by expires_at ms
KEYS[19] counters:error_type    HASH  error_type -> count
KEYS[20] audit                  STREAM field "json", MAXLEN ~ ARGV[23]

ARGV[1]  event id               ARGV[2]  event JSON (stored, published, audited)
ARGV[3]  group id               ARGV[4]  occurred_at ms
ARGV[5]  occurred_at ticks (19 digits)
ARGV[6]  event expires_at ms    ARGV[7]  now ms        ARGV[8]  now ticks (19 digits)
ARGV[9]  agent                  ARGV[10] component ('' when none)
ARGV[11] 1 when a component was given, else 0
ARGV[12] 1 when a task id was given, else 0
ARGV[13] signature              ARGV[14] error_type    ARGV[15] sample message
ARGV[16] severity               ARGV[17] category
ARGV[18] group TTL ms           ARGV[19] max events per index
ARGV[20] max events in total    ARGV[21] max groups    ARGV[22] max samples per group
ARGV[23] audit stream max length (approximate)
ARGV[24] event horizon ms (now - longest event retention): older index entries are trimmed
ARGV[25] TTL ms for the per-agent/component/task/severity/category indexes
ARGV[26] channel to PUBLISH the event JSON on
ARGV[27] hour bucket ms of occurred_at
ARGV[28] histogram horizon ms (hour buckets before it are dropped)
ARGV[29] group expires_at ticks (19 digits)   ARGV[30] group expires_at ms

Returns {is_new (1|0), group count, group status}.
]]

local events, expiry, tidx = KEYS[1], KEYS[2], KEYS[3]
local g, gAgents, gComponents, gSamples, gHist = KEYS[10], KEYS[11], KEYS[12], KEYS[13], KEYS[14]
local byLast, byFirst, byCount, byExpiry = KEYS[15], KEYS[16], KEYS[17], KEYS[18]
local eid, json, gid = ARGV[1], ARGV[2], ARGV[3]
local occMs, occTicks = ARGV[4], ARGV[5]
local nowMs, nowTicks = ARGV[7], ARGV[8]
local hasComponent, hasTask = ARGV[11] == '1', ARGV[12] == '1'
local maxIdx, maxTotal = tonumber(ARGV[19]), tonumber(ARGV[20])
local horizon = ARGV[24]

local function dropEvent(id)
  redis.call('HDEL', events, id)
  redis.call('ZREM', expiry, id)
  redis.call('ZREM', tidx, id)
end

-- 1. Retention: purge up to 100 expired events and events older than the horizon.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', expiry, '-inf', nowMs, 'LIMIT', 0, 100)) do dropEvent(id) end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', tidx, '-inf', '(' .. horizon, 'LIMIT', 0, 100)) do dropEvent(id) end

-- 2. Drop expired groups from the group sets (their keys expire by PEXPIRE).
for _, id in ipairs(redis.call('ZRANGEBYSCORE', byExpiry, '-inf', '(' .. nowMs, 'LIMIT', 0, 1000)) do
  redis.call('ZREM', byLast, id)
  redis.call('ZREM', byFirst, id)
  redis.call('ZREM', byCount, id)
  redis.call('ZREM', byExpiry, id)
end

-- 3. Is the group alive? (hash present, not expired, not evicted)
local live = false
local gExpires = redis.call('HGET', g, 'expires_at')
if gExpires and gExpires > nowTicks and redis.call('ZSCORE', byLast, gid) then live = true end
if not live then
  -- A fresh group: forget whatever an expired or evicted group of this id left behind.
  redis.call('DEL', g, gAgents, gComponents, gSamples, gHist, KEYS[6])
end

-- 4. The event and the global indexes, trimmed by count.
redis.call('HSET', events, eid, json)
redis.call('ZADD', expiry, ARGV[6], eid)
redis.call('ZADD', tidx, occMs, eid)
local total = redis.call('ZCARD', tidx)
if total > maxTotal then
  local over = total - maxTotal
  for _, id in ipairs(redis.call('ZRANGE', tidx, 0, over - 1)) do
    redis.call('HDEL', events, id)
    redis.call('ZREM', expiry, id)
  end
  redis.call('ZREMRANGEBYRANK', tidx, 0, over - 1)
end

local function index(key, ttl)
  redis.call('ZADD', key, occMs, eid)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. horizon)
  local n = redis.call('ZCARD', key)
  if n > maxIdx then redis.call('ZREMRANGEBYRANK', key, 0, n - maxIdx - 1) end
  redis.call('PEXPIRE', key, ttl)
end
local indexTtl, groupTtl = ARGV[25], ARGV[18]
index(KEYS[4], indexTtl)
if hasComponent then index(KEYS[5], indexTtl) end
index(KEYS[6], groupTtl)
if hasTask then index(KEYS[7], indexTtl) end
index(KEYS[8], indexTtl)
index(KEYS[9], indexTtl)

-- 5. Group upsert.
local isNew = 0
local status
if not live then
  isNew = 1
  status = 'unresolved'
  redis.call('HSET', g, 'signature', ARGV[13], 'error_type', ARGV[14], 'count', 0,
    'first_seen', occTicks, 'last_seen', occTicks, 'status', status,
    'sample_message', ARGV[15], 'severity', ARGV[16], 'category', ARGV[17])
  if hasComponent then redis.call('HSET', g, 'component', ARGV[10]) end
  redis.call('ZADD', byLast, occMs, gid)
  redis.call('ZADD', byFirst, occMs, gid)
else
  status = redis.call('HGET', g, 'status')
  if status == 'resolved' then
    status = 'regressed'
    redis.call('HSET', g, 'status', status, 'regressed_at', nowTicks, 'status_changed_at', nowTicks)
  end
  if occTicks < redis.call('HGET', g, 'first_seen') then
    redis.call('HSET', g, 'first_seen', occTicks)
    redis.call('ZADD', byFirst, occMs, gid)
  end
  if occTicks >= redis.call('HGET', g, 'last_seen') then
    redis.call('HSET', g, 'last_seen', occTicks, 'sample_message', ARGV[15], 'severity', ARGV[16], 'category', ARGV[17])
    if hasComponent then redis.call('HSET', g, 'component', ARGV[10]) end
    redis.call('ZADD', byLast, occMs, gid)
  end
end
local count = redis.call('HINCRBY', g, 'count', 1)
redis.call('HSET', g, 'expires_at', ARGV[29])
redis.call('ZADD', byCount, count, gid)
redis.call('ZADD', byExpiry, ARGV[30], gid)

redis.call('ZINCRBY', gAgents, 1, ARGV[9])
if hasComponent then redis.call('SADD', gComponents, ARGV[10]) end
redis.call('LPUSH', gSamples, eid)
redis.call('LTRIM', gSamples, 0, tonumber(ARGV[22]) - 1)
redis.call('HINCRBY', gHist, ARGV[27], 1)
local histHorizon = tonumber(ARGV[28])
for _, hour in ipairs(redis.call('HKEYS', gHist)) do
  if tonumber(hour) < histHorizon then redis.call('HDEL', gHist, hour) end
end
for i = 10, 14 do redis.call('PEXPIRE', KEYS[i], groupTtl) end

-- 6. Evict the stalest groups beyond the cap (never the group just written).
if isNew == 1 then
  local maxGroups = tonumber(ARGV[21])
  local n = redis.call('ZCARD', byLast)
  if n > maxGroups then
    local excess = n - maxGroups
    for _, id in ipairs(redis.call('ZRANGE', byLast, 0, excess)) do
      if excess == 0 then break end
      if id ~= gid then
        redis.call('ZREM', byLast, id)
        redis.call('ZREM', byFirst, id)
        redis.call('ZREM', byCount, id)
        redis.call('ZREM', byExpiry, id)
        excess = excess - 1
      end
    end
  end
end

-- 7. Counters, publish, audit.
redis.call('HINCRBY', KEYS[19], ARGV[14], 1)
redis.call('PUBLISH', ARGV[26], json)
redis.call('XADD', KEYS[20], 'MAXLEN', '~', ARGV[23], '*', 'json', json)

return {isNew, count, status}
