-- checkBreaker: check_breaker for one component, atomically. Applies due transitions (open -> half_open after the
-- break, isolation ended -> closed), then answers whether a call may go ahead; while half-open it grants at most
-- half_open_permits probe permits fleet-wide, each a lease that frees its slot when it expires.
-- KEYS and common ARGV: see breaker.lib.
-- ARGV[19] permit token to grant if a probe slot is free   ARGV[20] calling agent ('' when unknown)
-- Returns JSON: the record fields (see breaker.lib reply) plus allowed (bool), permit, permit_expires (ms), retry_after (ms or -1).
--#include breaker.lib

local token = ARGV[OP]
if not EXISTS then
  return reply({ allowed = true, permit = '', permit_expires = 0, retry_after = -1 })
end

local due = apply_due()
local allowed, permit, expires, retry = false, '', 0, -1
if S.st == 'closed' then
  allowed = true
elseif S.st == 'open' then
  retry = math.max(0, S.ou - NOW)
elseif S.st == 'isolated' then
  if S.ou > 0 then retry = math.max(0, S.ou - NOW) end
else
  prune_leases()
  local leased = redis.call('ZCARD', KEYS[4])
  if leased + S.ps < P.half_open_permits then
    expires = NOW + P.permit_lease_seconds * 1000
    redis.call('ZADD', KEYS[4], expires, token)
    allowed, permit = true, token
  else
    local soonest = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
    if #soonest == 2 then retry = math.max(0, tonumber(soonest[2]) - NOW) else retry = P.permit_lease_seconds * 1000 end
  end
end
if due or permit ~= '' then save() end
return reply({ allowed = allowed, permit = permit, permit_expires = expires, retry_after = retry })
