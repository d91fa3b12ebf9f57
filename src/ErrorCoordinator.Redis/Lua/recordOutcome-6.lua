-- recordOutcome: record_outcome for one component, atomically. Applies due transitions, adds the call to the sliding
-- window (a slow success counts as a failure), tracks consecutive failures and distinct failing reporters, then:
-- closed -> open on a trip rule (consecutive failures, failure count, or failure ratio over minimum throughput) once
-- min_distinct_reporters agents failed in the window; half_open with a valid permit -> closed after half_open_permits
-- successes, or re-opened with the break doubled (up to max_break_seconds) on a failure. Without a valid permit a
-- half-open outcome is counted but decides nothing.
-- KEYS and common ARGV: see breaker.lib.
-- ARGV[19] success '1'|'0'  [20] permit token or ''  [21] duration ms or ''  [22] error type or ''  [23] agent or ''
-- Returns the breaker.lib reply; op values: [20] failure '1'|'0' [21] slow '1'|'0' [22] permit 'none'|'accepted'|'invalid' [23] note.
--#include breaker.lib

local success = ARGV[OP] == '1'
local token = ARGV[OP + 1]
local duration = tonumber(ARGV[OP + 2])
local error_type = ARGV[OP + 3]
local agent = ARGV[OP + 4]

apply_due(agent)
local slow = success and P.slow_call_ms > 0 and duration ~= nil and duration >= P.slow_call_ms
local failure = (not success) or slow

add_to_window(failure, slow)
if failure then
  S.cf = S.cf + 1
  redis.call('ZADD', KEYS[3], NOW, agent ~= '' and agent or 'unknown')
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', NOW - P.sampling_seconds * 1000)
  local n = redis.call('ZCARD', KEYS[3])
  if n > 1000 then redis.call('ZREMRANGEBYRANK', KEYS[3], 0, n - 1001) end
else
  S.cf = 0
end

local permit = 'none'
if token ~= '' then
  prune_leases()
  if S.st == 'half_open' and redis.call('ZREM', KEYS[4], token) == 1 then permit = 'accepted' else permit = 'invalid' end
end

local note = ''
if S.st == 'closed' and failure then
  local calls, failures = totals()
  local rule = nil
  if P.consecutive_failures > 0 and S.cf >= P.consecutive_failures then
    rule = S.cf .. ' consecutive failures (limit ' .. P.consecutive_failures .. ')'
  elseif P.failure_count > 0 and failures >= P.failure_count then
    rule = failures .. ' failures in ' .. P.sampling_seconds .. 's (limit ' .. P.failure_count .. ')'
  elseif calls >= P.minimum_throughput and calls > 0 and failures / calls >= P.failure_ratio then
    rule = string.format('failure ratio %.2f >= %.2f over %d calls in %ds', round2(failures / calls), round2(P.failure_ratio), calls, P.sampling_seconds)
  end
  if rule then
    local reporters = distinct()
    if reporters < P.min_distinct_reporters then
      note = rule .. ', but only ' .. reporters .. ' of the ' .. P.min_distinct_reporters ..
        ' distinct reporters the policy needs; the breaker stays closed'
    else
      local reason = rule
      if reporters > 1 then reason = rule .. ', from ' .. reporters .. ' distinct reporters' end
      open(P.break_seconds * 1000)
      changed(reason, agent)
      emit('circuit_breaker_opened', 'closed', reason, agent, EVENT_ID, error_type)
    end
  end
elseif S.st == 'half_open' and permit == 'accepted' then
  if failure then
    local nextMs = math.min(math.max(S.bm, P.break_seconds * 1000) * 2, P.max_break_seconds * 1000)
    local reason = 'probe failed' .. (slow and ' (slow call)' or '') .. '; break doubled to ' .. seconds(nextMs) .. 's'
    open(nextMs)
    changed(reason, agent)
    emit('circuit_breaker_reopened', 'half_open', reason, agent, EVENT_ID, error_type)
  else
    S.ps = S.ps + 1
    if S.ps >= P.half_open_permits then
      local reason = 'probe succeeded'
      if P.half_open_permits > 1 then reason = P.half_open_permits .. ' probes succeeded' end
      close()
      changed(reason, agent)
      emit('circuit_breaker_closed', 'half_open', reason, agent, EVENT_ID)
    else
      note = 'probe succeeded (' .. S.ps .. ' of ' .. P.half_open_permits .. '); the breaker closes when all permits succeed'
    end
  end
elseif S.st == 'half_open' then
  note = 'half-open: the outcome is counted, but only a probe holding a valid permit from check_breaker can close or re-open the breaker'
end

save()
return reply(failure and '1' or '0', slow and '1' or '0', permit, note)
