--[[
signalIncident: opens an incident or attaches to the open one of a correlation cluster, atomically with the dedup check,
so concurrent signals from any number of processes give one incident per cluster.

The caller names the incident it expects (ARGV[1]): with mode 'attach' the open incident its dedup lookup found, with
'open' the new incident to create when nothing matches, with 'always' a new incident created whatever matches (opened by
hand). The script looks the keys up again; when the answer is not what the caller expected it writes nothing and returns
{-2, actual id or ''} so the caller retries with that incident's keys (every key it touches is in KEYS).

KEYS[1]  inc:dedup               HASH  dedup key (c:<component>, t:<trace>, ...) -> id of the open incident holding it
KEYS[2]  inc:i:<id>              HASH  the incident's fields (id, title, severity, status, source, dedup_key, created_ms,
                                       first_event_ms, last_event_ms, acknowledged_ms, acknowledged_by, resolved_ms,
                                       resolution, root_cause, suspected_root_cause, event_count, timeline_dropped, updated_ms)
KEYS[3]  inc:i:<id>:timeline     LIST  timeline entries (JSON), at most ARGV[10] (more are counted in timeline_dropped)
KEYS[4]  inc:i:<id>:events       ZSET  cited event id -> occurred ms, at most ARGV[11]; membership makes attaching idempotent
KEYS[5]  inc:i:<id>:keys         SET   dedup keys this incident holds (released on resolve)
KEYS[6]  inc:i:<id>:components   ZSET  component -> first seen ms
KEYS[7]  inc:idx:all             ZSET  id by created ms
KEYS[8]  inc:idx:triggered       ZSET  id by created ms
KEYS[9]  inc:idx:acknowledged    ZSET  id by created ms (counted with KEYS[8] against the open cap)

ARGV[1]  expected incident id        ARGV[2]  mode: attach | open | always
ARGV[3]  now ms                      ARGV[4]  now, ISO-8601 (published)
ARGV[5]  new incident fields, a flat JSON object of strings (open and always)
ARGV[6]  timeline entry JSON before its event ids    ARGV[7]  timeline entry JSON after its event ids
ARGV[8]  severity rank (0 critical .. 3 info)        ARGV[9]  severity name
ARGV[10] max timeline entries        ARGV[11] max event ids       ARGV[12] max open incidents
ARGV[13] channel to PUBLISH the change on             ARGV[14] suspected root cause ('' for none)
ARGV[15] number of claim keys (C)    ARGV[16] number of lookup keys (L)
ARGV[17] number of cited events (E)  ARGV[18] number of components (N)
ARGV[19] most dedup keys one incident may hold (claims past it are skipped)
ARGV[20 ..]  C claim keys, L lookup keys, E pairs (event id, occurred ms), N components

Returns {1, id} opened, {2, id} attached, {0, id} duplicate (every cited event was attached already; nothing but free
claim keys written), {-2, actual id or ''} retry, {-3, ''} open-incident cap reached (nothing written).
]]
local expected, mode, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local nc, nl, ne, nn = tonumber(ARGV[15]), tonumber(ARGV[16]), tonumber(ARGV[17]), tonumber(ARGV[18])
local base = 20
local ranks = { critical = 0, error = 1, warning = 2, info = 3 }

local target = ''
if mode ~= 'always' then
  for i = 0, nc + nl - 1 do
    local id = redis.call('HGET', KEYS[1], ARGV[base + i])
    if id then target = id break end
  end
end
if mode == 'attach' and target ~= expected then return {-2, target} end
if mode == 'open' and target ~= '' then return {-2, target} end

local opening = mode ~= 'attach'
if opening then
  if redis.call('ZCARD', KEYS[8]) + redis.call('ZCARD', KEYS[9]) >= tonumber(ARGV[12]) then return {-3, ''} end
  if redis.call('EXISTS', KEYS[2]) == 1 then return redis.error_reply('incident ' .. expected .. ' exists') end
  local fields = cjson.decode(ARGV[5])
  for k, v in pairs(fields) do redis.call('HSET', KEYS[2], k, v) end
  redis.call('HSET', KEYS[2], 'status', 'triggered', 'event_count', 0, 'timeline_dropped', 0, 'updated_ms', now)
  local created = tonumber(fields['created_ms'])
  redis.call('ZADD', KEYS[7], created, expected)
  redis.call('ZADD', KEYS[8], created, expected)
elseif redis.call('HGET', KEYS[2], 'status') ~= 'triggered' and redis.call('HGET', KEYS[2], 'status') ~= 'acknowledged' then
  return {-2, ''}
end

local eb = base + nc + nl
local fresh = {}
local first, last = tonumber(redis.call('HGET', KEYS[2], 'first_event_ms')), tonumber(redis.call('HGET', KEYS[2], 'last_event_ms'))
local cap = tonumber(ARGV[11])
for i = 0, ne - 1 do
  local id, ms = ARGV[eb + 2 * i], tonumber(ARGV[eb + 2 * i + 1])
  if not redis.call('ZSCORE', KEYS[4], id) then
    if redis.call('ZCARD', KEYS[4]) < cap then redis.call('ZADD', KEYS[4], ms, id) end
    fresh[#fresh + 1] = cjson.encode(id)
    if not first or ms < first then first = ms end
    if not last or ms > last then last = ms end
  end
end

local cb = eb + 2 * ne
local function claim()
  local room = tonumber(ARGV[19]) - redis.call('SCARD', KEYS[5])
  for i = 0, nc - 1 do
    if room <= 0 then break end
    local key = ARGV[base + i]
    if redis.call('HSETNX', KEYS[1], key, expected) == 1 then
      redis.call('SADD', KEYS[5], key)
      room = room - 1
    end
  end
end

if #fresh == 0 and not opening then
  claim()
  return {0, expected}
end

redis.call('HINCRBY', KEYS[2], 'event_count', #fresh)
if first then redis.call('HSET', KEYS[2], 'first_event_ms', first) end
if last then redis.call('HSET', KEYS[2], 'last_event_ms', last) end
local ids = #fresh == 0 and '[]' or ('[' .. table.concat(fresh, ',') .. ']')
if redis.call('LLEN', KEYS[3]) < tonumber(ARGV[10]) then
  redis.call('RPUSH', KEYS[3], ARGV[6] .. ids .. ARGV[7])
else
  redis.call('HINCRBY', KEYS[2], 'timeline_dropped', 1)
end
for i = 0, nn - 1 do redis.call('ZADD', KEYS[6], 'NX', now, ARGV[cb + i]) end
local current = ranks[redis.call('HGET', KEYS[2], 'severity')] or 3
if tonumber(ARGV[8]) < current then redis.call('HSET', KEYS[2], 'severity', ARGV[9]) end
if ARGV[14] ~= '' and redis.call('HEXISTS', KEYS[2], 'suspected_root_cause') == 0 then
  redis.call('HSET', KEYS[2], 'suspected_root_cause', ARGV[14])
end
redis.call('HSET', KEYS[2], 'updated_ms', now)
claim()
redis.call('PUBLISH', ARGV[13], cjson.encode({ type = opening and 'incident_opened' or 'incident_updated', incident_id = expected,
  status = redis.call('HGET', KEYS[2], 'status'), at = ARGV[4] }))
return {opening and 1 or 2, expected}
