-- checkBreaker: check_breaker for one component, atomically. Applies due transitions (open -> half_open after the
-- break, isolation ended -> closed), then answers whether a call may go ahead; while half-open it grants at most
-- half_open_permits probe permits fleet-wide, each a lease that frees its slot when it expires.
-- KEYS and common ARGV: see breaker.lib.
-- ARGV[19] permit token to grant if a probe slot is free   ARGV[20] calling agent ('' when unknown)
-- Returns the breaker.lib reply; op values: [20] allowed '1'|'0' [21] permit token or '' [22] permit expiry (ms) [23] retry after (ms, -1: none).

-- Fast path, before the shared code: a closed breaker (or one never seen) whose window "sum" is current answers from
-- four reads, with no writes. Anything else (open, half-open, isolated, a stale sum) takes the full path below.
do
  local st = redis.call('HMGET', KEYS[1], 'st', 'oa', 'ou', 'rs', 'cb', 'ca', 'bm', 'cf', 'ps', 'tr')
  if not st[1] or st[1] == 'closed' then
    local pol = redis.call('HMGET', KEYS[5], 'sampling_seconds', 'half_open_permits', 'break_seconds')
    local sampling = tonumber(pol[1]) or tonumber(ARGV[10])
    local permits = tonumber(pol[2]) or tonumber(ARGV[13])
    local brk = tonumber(pol[3]) or tonumber(ARGV[11])
    local now = tonumber(ARGV[1])
    local w = math.max(1, math.floor(sampling * 1000 / 10))
    local sum = redis.call('HGET', KEYS[2], 'sum')
    local c, f, sl = 0, 0, 0
    local current = not sum
    if sum then
      local n, bw, cc, ff, ss = string.match(sum, '^(%-?%d+):(%d+):(%d+):(%d+):(%d+)$')
      if tonumber(bw) == w and tonumber(n) == math.floor(now / w) then
        current = true
        c, f, sl = tonumber(cc), tonumber(ff), tonumber(ss)
      end
    end
    if current then
      local distinct = 0
      if f > 0 then distinct = redis.call('ZCOUNT', KEYS[3], '(' .. (now - sampling * 1000), '+inf') end
      return { st[1] or 'closed', st[2] or '0', st[3] or '0', st[4] or '', st[5] or '', st[6] or '0', st[7] or '0', st[8] or '0',
        st[9] or '0', st[10] or '0', c, f, sl, distinct, 0, 0, sampling, permits, brk, '1', '', '0', '-1', 0 }
    end
  end
end

--#include breaker.lib

local token = ARGV[OP]
if not EXISTS then
  return reply('1', '', '0', '-1')
end

local due = apply_due(ARGV[OP + 1])
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
if due or permit ~= '' then save() elseif S.st == 'closed' then refresh_sum() end
return reply(allowed and '1' or '0', permit, tostring(expires), tostring(retry))
