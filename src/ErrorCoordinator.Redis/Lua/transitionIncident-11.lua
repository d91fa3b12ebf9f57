--[[
transitionIncident: acknowledges or resolves an incident, atomically with its checks, its timeline entry and (on resolve)
the release of its dedup keys, so a later failure of the same cluster opens a new incident.

KEYS[1]  inc:i:<id>              HASH  the incident's fields (see signalIncident)
KEYS[2]  inc:i:<id>:timeline     LIST  timeline entries (the entry is appended even past the cap)
KEYS[3]  inc:i:<id>:events       ZSET  cited event ids (the lifecycle event is added while under ARGV[9])
KEYS[4]  inc:i:<id>:keys         SET   dedup keys the incident holds
KEYS[5]  inc:i:<id>:components   ZSET
KEYS[6]  inc:dedup               HASH  dedup key -> open incident id
KEYS[7]  inc:idx:triggered       ZSET  id by created ms
KEYS[8]  inc:idx:acknowledged    ZSET  id by created ms
KEYS[9]  inc:idx:resolved        ZSET  id by created ms
KEYS[10] inc:idx:resolved_at     ZSET  id by resolved ms (retention sweep)
KEYS[11] inc:idx:all             ZSET  id by created ms

ARGV[1]  incident id        ARGV[2]  target status: acknowledged | resolved
ARGV[3]  now ms             ARGV[4]  by ('' for none)
ARGV[5]  resolution         ARGV[6]  root cause ('' for none)
ARGV[7]  timeline entry JSON                 ARGV[8]  the entry's lifecycle event id
ARGV[9]  max event ids      ARGV[10] retention ms of a resolved incident (PEXPIRE of KEYS[1..5])
ARGV[11] channel to PUBLISH the change on    ARGV[12] now, ISO-8601
ARGV[13] sweep horizon ms: resolved before it, index entries are removed (their keys have expired)

Returns {1, status} applied, {0, status} unchanged (acknowledged twice), {-2, status} not allowed (already resolved),
{-1, ''} not found.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, ''} end
local id, to, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'resolved' then return {-2, status} end
if to == 'acknowledged' and status == 'acknowledged' then return {0, status} end

redis.call('RPUSH', KEYS[2], ARGV[7])
if redis.call('ZCARD', KEYS[3]) < tonumber(ARGV[9]) then redis.call('ZADD', KEYS[3], 'NX', now, ARGV[8]) end
local created = redis.call('HGET', KEYS[1], 'created_ms')
redis.call('ZREM', KEYS[7], id)
if to == 'acknowledged' then
  redis.call('HSET', KEYS[1], 'status', 'acknowledged', 'acknowledged_ms', now, 'acknowledged_by', ARGV[4], 'updated_ms', now)
  redis.call('ZADD', KEYS[8], created, id)
else
  redis.call('HSET', KEYS[1], 'status', 'resolved', 'resolved_ms', now, 'resolution', ARGV[5], 'updated_ms', now)
  if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'root_cause', ARGV[6]) end
  for _, key in ipairs(redis.call('SMEMBERS', KEYS[4])) do
    if redis.call('HGET', KEYS[6], key) == id then redis.call('HDEL', KEYS[6], key) end
  end
  redis.call('ZREM', KEYS[8], id)
  redis.call('ZADD', KEYS[9], created, id)
  redis.call('ZADD', KEYS[10], now, id)
  for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], ARGV[10]) end
  local old = redis.call('ZRANGEBYSCORE', KEYS[10], '-inf', ARGV[13], 'LIMIT', 0, 100)
  for _, gone in ipairs(old) do
    redis.call('ZREM', KEYS[10], gone)
    redis.call('ZREM', KEYS[9], gone)
    redis.call('ZREM', KEYS[11], gone)
  end
end
redis.call('PUBLISH', ARGV[11], cjson.encode({ type = 'incident_' .. to, incident_id = id, status = to, at = ARGV[12] }))
return {1, to}
