-- transitionBreaker: trip_breaker (isolate), service-opened breaks (open) and reset_breaker (reset), atomically.
-- isolate: no calls and no probes until reset or until the duration ends. open: open now for the duration, then probe
-- as usual (an isolated breaker stays isolated; an open one keeps the longer break). reset: close and clear the window,
-- consecutive count, reporters and permits.
-- KEYS and common ARGV: see breaker.lib.
-- ARGV[19] 'isolate'|'open'|'reset'  [20] reason  [21] duration ms or ''  [22] agent or ''
-- Returns the breaker.lib reply (no op values).
--#include breaker.lib

local command = ARGV[OP]
local reason = ARGV[OP + 1]
local duration = tonumber(ARGV[OP + 2])
local agent = ARGV[OP + 3]

apply_due(agent)
local from = S.st
if command == 'isolate' then
  S.st = 'isolated'; S.oa = NOW; S.ps = 0; S.tr = S.tr + 1
  if duration then S.ou = NOW + duration else S.ou = 0 end
  redis.call('DEL', KEYS[4])
  changed(reason, agent)
  emit('circuit_breaker_opened', from, reason, agent, EVENT_ID)
elseif command == 'open' then
  if from ~= 'isolated' then
    local breakMs = duration or P.break_seconds * 1000
    if from == 'open' then
      if NOW + breakMs > S.ou then S.ou = NOW + breakMs; S.bm = S.ou - S.oa end
    else
      open(breakMs)
      changed(reason, agent)
      emit(from == 'half_open' and 'circuit_breaker_reopened' or 'circuit_breaker_opened', from, reason, agent, EVENT_ID)
    end
  end
else
  close()
  if from ~= 'closed' then
    changed(reason, agent)
    emit('circuit_breaker_closed', from, reason, agent, EVENT_ID)
  end
end
save()
return reply()
