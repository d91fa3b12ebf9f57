-- breaker.lib: the circuit breaker state machine shared by checkBreaker-6, recordOutcome-6 and transitionBreaker-6.
-- Not a script of its own: RedisScripts pastes it where a script says "--#include breaker.lib".
-- It mirrors ErrorCoordinator.Core.Breakers.BreakerMachine (the embedded store); the shared contract suite holds both
-- to the same behaviour.
--
-- KEYS (all in the component's hash tag {cb:<component>}):
--   [1] state     HASH st, oa (opened_at ms), ou (open_until ms), rs (reason), cb (changed_by), ca (changed_at ms),
--                 bm (current break ms), cf (consecutive failures), ps (probe successes), tr (trips)
--   [2] window    HASH w0..w9 = "bucket:width:calls:failures:slow", sum = the window's totals as of the last write's bucket
--                 (same format), t0..t5 = "bucket:calls" (10 s buckets of the last minute)
--   [3] reporters ZSET agent -> time of its last failure (ms)
--   [4] permits   ZSET probe permit token -> lease expiry (ms)
--   [5] policy    HASH stored overrides (failure_ratio, minimum_throughput, ...)
--   [6] audit     STREAM of transitions (field "json"), capped
-- ARGV (common):
--   [1] now (Unix ms) [2] now (ISO-8601) [3] component [4] channel [5] event id for a transition this call causes
--   [6] idle TTL (ms, every key) [7] transitions kept [8..18] default policy in BreakerPolicyFields.Names order
-- Op-specific ARGV start at 19.

local NOW = tonumber(ARGV[1])
local NOW_ISO = ARGV[2]
local COMPONENT = ARGV[3]
local CHANNEL = ARGV[4]
local EVENT_ID = ARGV[5]
local IDLE_TTL = tonumber(ARGV[6])
local KEPT = tonumber(ARGV[7])
local OP = 19

local NAMES = { 'failure_ratio', 'minimum_throughput', 'sampling_seconds', 'break_seconds', 'max_break_seconds',
  'half_open_permits', 'permit_lease_seconds', 'consecutive_failures', 'failure_count', 'min_distinct_reporters', 'slow_call_ms' }

local P = {}
do
  local stored = redis.call('HGETALL', KEYS[5])
  local map = {}
  for i = 1, #stored, 2 do map[stored[i]] = stored[i + 1] end
  for i, name in ipairs(NAMES) do
    P[name] = tonumber(map[name]) or tonumber(ARGV[7 + i])
  end
end

local S = {}
local EXISTS
do
  local raw = redis.call('HGETALL', KEYS[1])
  EXISTS = #raw > 0
  for i = 1, #raw, 2 do S[raw[i]] = raw[i + 1] end
  S.st = S.st or 'closed'
  for _, f in ipairs({ 'oa', 'ou', 'ca', 'bm', 'cf', 'ps', 'tr' }) do S[f] = tonumber(S[f]) or 0 end
  S.rs = S.rs or ''
  S.cb = S.cb or ''
end

local W = {}
do
  local raw = redis.call('HGETALL', KEYS[2])
  for i = 1, #raw, 2 do W[raw[i]] = raw[i + 1] end
end
local WINDOW_DIRTY = {}

local TRANSITIONS = {}

-- "bucket:width:calls:failures:slow" -> five numbers (no table, no iterator: this runs on every call).
local function bucket(v)
  local n, w, c, f, sl = string.match(v, '^(%-?%d+):(%d+):(%d+):(%d+):(%d+)$')
  return tonumber(n), tonumber(w), tonumber(c), tonumber(f), tonumber(sl)
end

local function width()
  return math.max(1, math.floor(P.sampling_seconds * 1000 / 10))
end

-- Window totals at NOW. The window hash keeps "sum" = the totals as of the bucket of the last write; while that is still
-- the current bucket (no bucket has left the window since), it is exact and the buckets need not be read.
local TOT = nil
local function totals()
  if TOT then return TOT[1], TOT[2], TOT[3] end
  local w = width()
  local current = math.floor(NOW / w)
  local calls, failures, slow = 0, 0, 0
  local sum = W.sum
  local sn, sw, sc, sf, ss
  if sum then sn, sw, sc, sf, ss = bucket(sum) end
  if sw == w and sn == current then
    calls, failures, slow = sc, sf, ss
  else
    for slot = 0, 9 do
      local v = W['w' .. slot]
      if v then
        local n, bw, c, f, sl = bucket(v)
        if bw == w and n > current - 10 and n <= current then
          calls = calls + c; failures = failures + f; slow = slow + sl
        end
      end
    end
  end
  TOT = { calls, failures, slow }
  return calls, failures, slow
end

local function ratio(calls, failures)
  if calls == 0 then return 0 end
  return math.floor(failures / calls * 10000 + 0.5) / 10000
end

-- Two decimals, halves away from zero (as the embedded store formats them).
local function round2(x)
  return math.floor(x * 100 + 0.5) / 100
end

-- Distinct agents whose last failure lies in the sampling period (the window reports 0 when it holds no failure).
local function distinct()
  return redis.call('ZCOUNT', KEYS[3], '(' .. (NOW - P.sampling_seconds * 1000), '+inf')
end

local function seconds(ms)
  local s = ms / 1000
  if s == math.floor(s) then return string.format('%d', s) end
  return string.format('%.3f', s):gsub('0+$', '')
end

local function changed(reason, agent)
  S.rs = reason; S.cb = agent or ''; S.ca = NOW
end

local function open(breakMs)
  S.st = 'open'; S.bm = breakMs; S.oa = NOW; S.ou = NOW + breakMs; S.ps = 0; S.tr = S.tr + 1
  redis.call('DEL', KEYS[4])
end

local function close()
  S.st = 'closed'; S.bm = 0; S.ou = 0; S.cf = 0; S.ps = 0
  for slot = 0, 9 do
    if W['w' .. slot] then W['w' .. slot] = nil; WINDOW_DIRTY['w' .. slot] = true end
  end
  if W.sum then W.sum = nil; WINDOW_DIRTY.sum = true end
  TOT = nil
  redis.call('DEL', KEYS[3], KEYS[4])
end

local function prune_leases()
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', NOW)
end

-- Publishes a transition and appends it to the audit stream; remembers it for the reply.
local function emit(kind, from, reason, agent, id, error_type)
  local calls, failures = totals()
  local until_ms = 0
  if S.st == 'open' or S.st == 'isolated' then until_ms = S.ou end
  local json = cjson.encode({
    event_id = id, type = kind, component = COMPONENT, from = from, state = S.st, reason = reason,
    agent = (agent and agent ~= '') and agent or cjson.null,
    error_type = (error_type and error_type ~= '') and error_type or cjson.null,
    timestamp = NOW_ISO, open_until_ms = until_ms,
    break_seconds = math.ceil(S.bm / 1000), calls = calls, failures = failures, failure_ratio = ratio(calls, failures),
  })
  redis.call('PUBLISH', CHANNEL, json)
  redis.call('XADD', KEYS[6], 'MAXLEN', '~', KEPT, '*', 'json', json)
  TRANSITIONS[#TRANSITIONS + 1] = json
end

-- open -> half_open after the break; isolation with an end -> closed. The calling agent is recorded as the one whose
-- call found the transition due; its event id is the call's id with "_due". Returns true when it changed the state.
local function apply_due(agent)
  if S.st == 'open' and NOW >= S.ou then
    S.st = 'half_open'; S.ps = 0
    redis.call('DEL', KEYS[4])
    local reason = 'break of ' .. seconds(S.bm) .. 's elapsed; probing'
    changed(reason, agent)
    emit('circuit_breaker_half_open', 'open', reason, agent, EVENT_ID .. '_due')
    return true
  end
  if S.st == 'isolated' and S.ou > 0 and NOW >= S.ou then
    close()
    changed('isolation ended', agent)
    emit('circuit_breaker_closed', 'isolated', 'isolation ended', agent, EVENT_ID .. '_due')
    return true
  end
  return false
end

local function add_to_window(failure, slow)
  local w = width()
  local n = math.floor(NOW / w)
  local field = 'w' .. (n % 10)
  local bn, bw, c, f, sl
  if W[field] then bn, bw, c, f, sl = bucket(W[field]) end
  if bn ~= n or bw ~= w then c, f, sl = 0, 0, 0 end
  c = c + 1
  if failure then f = f + 1 end
  if slow then sl = sl + 1 end
  W[field] = string.format('%d:%d:%d:%d:%d', n, w, c, f, sl)
  WINDOW_DIRTY[field] = true
  TOT = nil
  W.sum = nil
  local tc, tf, ts = totals()
  W.sum = string.format('%d:%d:%d:%d:%d', n, w, tc, tf, ts)
  WINDOW_DIRTY.sum = true

  local tn = math.floor(NOW / 10000)
  local tfield = 't' .. (tn % 6)
  local count = 1
  if W[tfield] then
    local tb, tc = string.match(W[tfield], '^(%d+):(%d+)$')
    if tonumber(tb) == tn then count = tonumber(tc) + 1 end
  end
  W[tfield] = string.format('%d:%d', tn, count)
  WINDOW_DIRTY[tfield] = true
end

-- A check that found the window sum stale (no outcome since its bucket) stores the current totals, so the checks after it
-- take the fast path again. Only into an existing window hash, which keeps its TTL.
local function refresh_sum()
  if not next(W) then return end
  local w = width()
  local current = math.floor(NOW / w)
  if W.sum then
    local n, bw = bucket(W.sum)
    if bw == w and n == current then return end
  end
  local calls, failures, slow = totals()
  W.sum = string.format('%d:%d:%d:%d:%d', current, w, calls, failures, slow)
  redis.call('HSET', KEYS[2], 'sum', W.sum)
end

-- Writes the state hash and the changed window fields, and refreshes every key's idle TTL.
local SAVED = false
local function save()
  SAVED = true
  redis.call('HSET', KEYS[1], 'st', S.st, 'oa', S.oa, 'ou', S.ou, 'rs', S.rs, 'cb', S.cb, 'ca', S.ca,
    'bm', S.bm, 'cf', S.cf, 'ps', S.ps, 'tr', S.tr)
  local set, del = {}, {}
  for field in pairs(WINDOW_DIRTY) do
    if W[field] then set[#set + 1] = field; set[#set + 1] = W[field] else del[#del + 1] = field end
  end
  if #set > 0 then redis.call('HSET', KEYS[2], unpack(set)) end
  if #del > 0 then redis.call('HDEL', KEYS[2], unpack(del)) end
  -- Idle retention counts from the end of a break or isolation; an isolation until reset never expires.
  if S.st == 'isolated' and S.ou == 0 then
    for i = 1, 6 do redis.call('PERSIST', KEYS[i]) end
  else
    local ttl = IDLE_TTL
    if (S.st == 'open' or S.st == 'isolated') and S.ou > NOW then ttl = S.ou - NOW + IDLE_TTL end
    for i = 1, 6 do redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end

-- The reply, a flat array the store reads by position (no JSON: this runs on every call):
--   [1] st [2] oa [3] ou [4] rs [5] cb [6] ca [7] bm [8] cf [9] ps [10] tr
--   [11] calls [12] failures [13] slow [14] distinct reporters [15] permits leased [16] created (1|0)
--   [17] effective sampling_seconds [18] half_open_permits [19] break_seconds
--   [20..23] op-specific values (strings)   [24] transition count n   [25..24+n] transition JSON, in order
local function reply(a, b, c, d)
  local calls, failures, slow = totals()
  local leased = 0
  if S.st == 'half_open' then leased = redis.call('ZCOUNT', KEYS[4], '(' .. NOW, '+inf') end
  local r = {
    S.st, tostring(S.oa), tostring(S.ou), S.rs, S.cb, tostring(S.ca), tostring(S.bm), tostring(S.cf), tostring(S.ps), tostring(S.tr),
    calls, failures, slow, failures > 0 and distinct() or 0, leased, ((not EXISTS) and SAVED) and 1 or 0,
    P.sampling_seconds, P.half_open_permits, P.break_seconds,
    a or '', b or '', c or '', d or '', #TRANSITIONS,
  }
  for i = 1, #TRANSITIONS do r[#r + 1] = TRANSITIONS[i] end
  return r
end
