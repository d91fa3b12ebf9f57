-- breaker.lib: the circuit breaker state machine shared by checkBreaker-6, recordOutcome-6 and transitionBreaker-6.
-- Not a script of its own: RedisScripts pastes it where a script says "--#include breaker.lib".
-- It mirrors ErrorCoordinator.Core.Breakers.BreakerMachine (the embedded store); the shared contract suite holds both
-- to the same behaviour.
--
-- KEYS (all in the component's hash tag {cb:<component>}):
--   [1] state     HASH st, oa (opened_at ms), ou (open_until ms), rs (reason), cb (changed_by), ca (changed_at ms),
--                 bm (current break ms), cf (consecutive failures), ps (probe successes), tr (trips)
--   [2] window    HASH w0..w9 = "bucket:width:calls:failures:slow", t0..t5 = "bucket:calls" (10 s buckets of the last minute)
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

local function split(s)
  local out = {}
  for part in string.gmatch(s, '[^:]+') do out[#out + 1] = tonumber(part) end
  return out
end

local function width()
  return math.max(1, math.floor(P.sampling_seconds * 1000 / 10))
end

local function totals()
  local w = width()
  local current = math.floor(NOW / w)
  local calls, failures, slow = 0, 0, 0
  for slot = 0, 9 do
    local v = W['w' .. slot]
    if v then
      local b = split(v)
      if b[2] == w and b[1] > current - 10 and b[1] <= current then
        calls = calls + b[3]; failures = failures + b[4]; slow = slow + b[5]
      end
    end
  end
  return calls, failures, slow
end

local function ratio(calls, failures)
  if calls == 0 then return 0 end
  return math.floor(failures / calls * 10000 + 0.5) / 10000
end

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
  redis.call('DEL', KEYS[3], KEYS[4])
end

local function prune_leases()
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', NOW)
end

-- Publishes a transition and appends it to the audit stream; remembers it for the reply.
local function emit(kind, from, reason, agent, id)
  local calls, failures = totals()
  local until_ms = 0
  if S.st == 'open' or S.st == 'isolated' then until_ms = S.ou end
  local json = cjson.encode({
    event_id = id, type = kind, component = COMPONENT, from = from, state = S.st, reason = reason,
    agent = (agent and agent ~= '') and agent or cjson.null, timestamp = NOW_ISO, open_until_ms = until_ms,
    break_seconds = math.floor(S.bm / 1000), calls = calls, failures = failures, failure_ratio = ratio(calls, failures),
  })
  redis.call('PUBLISH', CHANNEL, json)
  redis.call('XADD', KEYS[6], 'MAXLEN', '~', KEPT, '*', 'json', json)
  TRANSITIONS[#TRANSITIONS + 1] = json
end

-- open -> half_open after the break; isolation with an end -> closed. Returns true when it changed the state.
local function apply_due()
  if S.st == 'open' and NOW >= S.ou then
    S.st = 'half_open'; S.ps = 0
    redis.call('DEL', KEYS[4])
    local reason = 'break of ' .. seconds(S.bm) .. 's elapsed; probing'
    changed(reason, nil)
    emit('circuit_breaker_half_open', 'open', reason, nil, EVENT_ID .. '_due')
    return true
  end
  if S.st == 'isolated' and S.ou > 0 and NOW >= S.ou then
    close()
    changed('isolation ended', nil)
    emit('circuit_breaker_closed', 'isolated', 'isolation ended', nil, EVENT_ID .. '_due')
    return true
  end
  return false
end

local function add_to_window(failure, slow)
  local w = width()
  local n = math.floor(NOW / w)
  local field = 'w' .. (n % 10)
  local b = W[field] and split(W[field]) or nil
  if not b or b[1] ~= n or b[2] ~= w then b = { n, w, 0, 0, 0 } end
  b[3] = b[3] + 1
  if failure then b[4] = b[4] + 1 end
  if slow then b[5] = b[5] + 1 end
  W[field] = string.format('%d:%d:%d:%d:%d', b[1], b[2], b[3], b[4], b[5])
  WINDOW_DIRTY[field] = true

  local tn = math.floor(NOW / 10000)
  local tfield = 't' .. (tn % 6)
  local t = W[tfield] and split(W[tfield]) or nil
  if t and t[1] == tn then t[2] = t[2] + 1 else t = { tn, 1 } end
  W[tfield] = string.format('%d:%d', t[1], t[2])
  WINDOW_DIRTY[tfield] = true
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
  for i = 1, 6 do redis.call('PEXPIRE', KEYS[i], IDLE_TTL) end
end

-- The reply: the record's fields as a view needs them, plus op-specific fields in extra.
local function reply(extra)
  local calls, failures, slow = totals()
  local leased = 0
  if S.st == 'half_open' then leased = redis.call('ZCOUNT', KEYS[4], '(' .. NOW, '+inf') end
  local r = {
    st = S.st, oa = S.oa, ou = S.ou, rs = S.rs, cb = S.cb, ca = S.ca, bm = S.bm, cf = S.cf, ps = S.ps, tr = S.tr,
    calls = calls, failures = failures, slow = slow, distinct = distinct(), leased = leased,
    transitions = TRANSITIONS, policy = P, created = (not EXISTS) and SAVED or false,
  }
  for k, v in pairs(extra) do r[k] = v end
  return cjson.encode(r)
end
