--[[
recordFailure: records one error report atomically (event, indexes, group and its counters, publish, audit),
together with its template assignment (a compare-and-set on the template bucket the message routes to).
Kept lean because Redis runs it on its one thread for every report: each redis.call costs about 1 us of
overhead, so work whose only effect is memory hygiene (retention sweeps) runs on one report in 16, TTLs of
group keys are refreshed at most once an hour, and every read skips expired events and groups itself.

KEYS[1]  events                 HASH  eventId -> event JSON
KEYS[2]  events:expiry          ZSET  eventId scored by expires_at ms
KEYS[3]  idx:time               ZSET  eventId scored by occurred_at ms (every event; capped exactly at ARGV[20])
KEYS[4]  idx:agent:<a>          ZSET  (capped at ARGV[19], TTL ARGV[25])
KEYS[5]  idx:component:<c>      ZSET  (skipped when ARGV[11] = 0)
KEYS[6]  idx:group:<g>          ZSET  (TTL with the group's keys)
KEYS[7]  idx:task:<t>           ZSET  (skipped when ARGV[12] = 0)
KEYS[8]  group:<g>              HASH  signature (replaced when ARGV[31] = 'update'), error_type, count, first_seen, last_seen, status, sample_message,
                                      component, severity, category, note, status_changed_at, regressed_at, expires_at
                                      (timestamps as 19-digit UTC .NET ticks, so they compare as strings),
                                      keys_expire_ms (when the group's keys' PEXPIRE runs out)
KEYS[9]  group:<g>:agents       ZSET  agent -> event count
KEYS[10] group:<g>:components   SET
KEYS[11] group:<g>:samples      LIST  eventIds, newest first, capped at ARGV[22]
KEYS[12] group:<g>:hist         HASH  hour start ms -> count (hours before ARGV[28] are pruned when a new hour starts)
KEYS[13] groups:last_seen       ZSET  groupId scored by last_seen ms
KEYS[14] groups:first_seen      ZSET  groupId scored by first_seen ms
KEYS[15] groups:count           ZSET  groupId scored by count
KEYS[16] groups:expiry          ZSET  groupId scored by expires_at ms
KEYS[17] audit                  STREAM field "json", MAXLEN ~ ARGV[23]
KEYS[18] tpl:<bucket>           HASH  v -> bucket version, x -> expires ms (now + ARGV[18] at each use; an expired
                                      bucket reads as empty), c:<cluster> -> template (JSON), u:<cluster> -> last use ms;
                                      PEXPIRE ARGV[18] + 1 h on every use; at most ARGV[36] clusters (LRU evicted).
                                      Untouched when ARGV[31] = ''.

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
ARGV[24] event horizon ms (now - longest event retention): older entries are swept
ARGV[25] TTL ms for the per-agent/component/task indexes
ARGV[26] channel to PUBLISH the event JSON on
ARGV[27] hour bucket ms of occurred_at
ARGV[28] histogram horizon ms (hour buckets before it are dropped)
ARGV[29] group expires_at ticks (19 digits)   ARGV[30] group expires_at ms
ARGV[31] template change: '' (none), 'join', 'update' or 'create'
ARGV[32] expected bucket version ('' for a bucket the caller has not seen)
ARGV[33] new bucket version      ARGV[34] cluster id     ARGV[35] cluster template (JSON; '' for a join)
ARGV[36] max clusters per bucket

Returns {is_new (1|0), group count, group status, {evicted cluster ids}}, or, when the cluster to join is gone, or
for a create or update when the bucket's version is not ARGV[32] (or the one to create exists), {-1, {HGETALL of the bucket}} and
writes nothing.
]]

local events, expiry, tidx = KEYS[1], KEYS[2], KEYS[3]
local g, gAgents, gComponents, gSamples, gHist, gIdx = KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12], KEYS[6]
local byLast, byFirst, byCount, byExpiry = KEYS[13], KEYS[14], KEYS[15], KEYS[16]
local eid, json, gid = ARGV[1], ARGV[2], ARGV[3]
local occMs, occTicks = ARGV[4], ARGV[5]
local nowMs, nowTicks = ARGV[7], ARGV[8]
local hasComponent, hasTask = ARGV[11] == '1', ARGV[12] == '1'
local maxIdx, maxTotal = tonumber(ARGV[19]), tonumber(ARGV[20])
local groupTtl = tonumber(ARGV[18])
local HOUR = 3600000

local function dropEvent(id)
  redis.call('HDEL', events, id)
  redis.call('ZREM', expiry, id)
  redis.call('ZREM', tidx, id)
end

local function sweepGroups()
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', byExpiry, '-inf', '(' .. nowMs, 'LIMIT', 0, 1000)) do
    redis.call('ZREM', byLast, id)
    redis.call('ZREM', byFirst, id)
    redis.call('ZREM', byCount, id)
    redis.call('ZREM', byExpiry, id)
  end
end

-- 0. The template bucket's compare-and-set, before any write.
local bucket, change, cid = KEYS[18], ARGV[31], ARGV[34]
local bucketExpired = false
if change ~= '' then
  local b = redis.call('HMGET', bucket, 'v', 'c:' .. cid, 'x')
  if b[1] and tonumber(b[3] or 0) <= tonumber(ARGV[7]) then
    -- Expired (its Redis TTL, an hour later, only returns the memory): it reads as empty; only a create that
    -- succeeds clears it (step 7), so a conflict still writes nothing.
    bucketExpired = true
    b = {false, false, false}
  end
  -- A join needs only its cluster (a template generalised or a cluster added since still admits the message);
  -- a create or an update needs the bucket exactly as the caller saw it.
  local ok
  if change == 'join' then ok = b[2] and true or false
  else
    ok = (b[1] or '') == ARGV[32]
    if change == 'create' then ok = ok and not b[2] else ok = ok and b[2] end
  end
  if not ok then return {-1, (b[1] and not bucketExpired) and redis.call('HGETALL', bucket) or {}} end
end

-- 1. Is the group alive? (hash present, not expired, not evicted)
local cur = redis.call('HMGET', g, 'expires_at', 'status', 'first_seen', 'last_seen', 'keys_expire_ms')
local live = cur[1] and cur[1] > nowTicks and redis.call('ZSCORE', byLast, gid)
if not live then
  -- A fresh group: forget whatever an expired or evicted group of this id left behind.
  redis.call('DEL', g, gAgents, gComponents, gSamples, gHist, gIdx)
end

-- 2. The event and the time index, capped exactly by count (the oldest events go).
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

-- 3. Retention sweeps, on about one report in 16: expired events, events past the horizon, expired groups.
-- Reads skip expired data themselves, so deferring these changes no answer, only when memory is returned.
-- (Gated on the event id's last hex digit, random in a UUIDv7, so it runs whatever the index sizes are.)
if tonumber(string.sub(eid, -1), 16) == 0 then
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', expiry, '-inf', nowMs, 'LIMIT', 0, 200)) do dropEvent(id) end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', tidx, '-inf', '(' .. ARGV[24], 'LIMIT', 0, 200)) do dropEvent(id) end
  sweepGroups()
end

-- 4. Filter indexes: one ZADD and one exact count cap each (ZREMRANGEBYRANK is a no-op under the cap).
local function index(key, ttl)
  redis.call('ZADD', key, occMs, eid)
  redis.call('ZREMRANGEBYRANK', key, 0, -(maxIdx + 1))
  if ttl then redis.call('PEXPIRE', key, ttl) end
end
local indexTtl = ARGV[25]
index(KEYS[4], indexTtl)
if hasComponent then index(KEYS[5], indexTtl) end
index(gIdx, nil)
if hasTask then index(KEYS[7], indexTtl) end

-- 5. Group upsert: one HSET with every changed field.
local isNew, status = 0, nil
local fields = {'expires_at', ARGV[29]}
local function set(name, value) fields[#fields + 1] = name; fields[#fields + 1] = value end
local latest = false
if not live then
  isNew, status, latest = 1, 'unresolved', true
  set('signature', ARGV[13]); set('error_type', ARGV[14]); set('status', status)
  set('first_seen', occTicks)
  redis.call('ZADD', byFirst, occMs, gid)
else
  status = cur[2]
  -- A generalised template becomes the group's signature (its id stays).
  if change == 'update' then set('signature', ARGV[13]) end
  if status == 'resolved' then
    status = 'regressed'
    set('status', status); set('regressed_at', nowTicks); set('status_changed_at', nowTicks)
  end
  if occTicks < cur[3] then
    set('first_seen', occTicks)
    redis.call('ZADD', byFirst, occMs, gid)
  end
  latest = occTicks >= cur[4]
end
if latest then
  set('last_seen', occTicks); set('sample_message', ARGV[15]); set('severity', ARGV[16]); set('category', ARGV[17])
  if hasComponent then set('component', ARGV[10]) end
  redis.call('ZADD', byLast, occMs, gid)
end
-- The group's keys live an hour past the group's own expiry, so their TTL is refreshed at most once an hour.
local refreshKeys = (not live) or (tonumber(cur[5] or 0) < tonumber(nowMs) + groupTtl)
if refreshKeys then set('keys_expire_ms', tonumber(nowMs) + groupTtl + HOUR) end
redis.call('HSET', g, unpack(fields))
local count = redis.call('HINCRBY', g, 'count', 1)
redis.call('ZADD', byCount, count, gid)
redis.call('ZADD', byExpiry, ARGV[30], gid)

redis.call('ZINCRBY', gAgents, 1, ARGV[9])
-- A group's first component creates the set after the hourly TTL refresh may have run: give it a TTL then.
if hasComponent and redis.call('SADD', gComponents, ARGV[10]) == 1 and not refreshKeys then
  redis.call('PEXPIRE', gComponents, groupTtl + HOUR)
end
redis.call('LPUSH', gSamples, eid)
redis.call('LTRIM', gSamples, 0, tonumber(ARGV[22]) - 1)
if redis.call('HINCRBY', gHist, ARGV[27], 1) == 1 then
  -- A new hour bucket: prune the ones that fell out of the window.
  local histHorizon = tonumber(ARGV[28])
  for _, hour in ipairs(redis.call('HKEYS', gHist)) do
    if tonumber(hour) < histHorizon then redis.call('HDEL', gHist, hour) end
  end
end
if refreshKeys then
  for _, key in ipairs({g, gAgents, gComponents, gSamples, gHist, gIdx}) do redis.call('PEXPIRE', key, groupTtl + HOUR) end
end

-- 6. A new group may push the count past the cap: evict the stalest (never the group just written).
if isNew == 1 then
  sweepGroups()
  local excess = redis.call('ZCARD', byLast) - tonumber(ARGV[21])
  if excess > 0 then
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

-- 7. The template assignment: the cluster's template and last use, and the bucket's TTL; a new cluster beyond the
-- cap evicts the least recently used other one (ties: the smallest id).
local evicted = {}
if change ~= '' then
  local bucketExpires = tonumber(nowMs) + groupTtl
  if change == 'join' then
    redis.call('HSET', bucket, 'u:' .. cid, nowMs, 'x', bucketExpires)
  else
    if bucketExpired then redis.call('DEL', bucket) end
    redis.call('HSET', bucket, 'v', ARGV[33], 'c:' .. cid, ARGV[35], 'u:' .. cid, nowMs, 'x', bucketExpires)
    if change == 'create' then
      local cap = tonumber(ARGV[36])
      local n = (redis.call('HLEN', bucket) - 2) / 2
      if n > cap then
        local all = redis.call('HGETALL', bucket)
        local uses = {}
        for i = 1, #all, 2 do
          local f = all[i]
          if string.sub(f, 1, 2) == 'u:' and string.sub(f, 3) ~= cid then uses[#uses + 1] = {tonumber(all[i + 1]), string.sub(f, 3)} end
        end
        table.sort(uses, function(a, b2) if a[1] ~= b2[1] then return a[1] < b2[1] end return a[2] < b2[2] end)
        for i = 1, n - cap do
          redis.call('HDEL', bucket, 'c:' .. uses[i][2], 'u:' .. uses[i][2])
          evicted[#evicted + 1] = uses[i][2]
        end
      end
    end
  end
  redis.call('PEXPIRE', bucket, groupTtl + HOUR)
end

-- 8. Publish to other agents, and the durable audit trail.
redis.call('PUBLISH', ARGV[26], json)
redis.call('XADD', KEYS[17], 'MAXLEN', '~', ARGV[23], '*', 'json', json)

return {isNew, count, status, evicted}
