--[[
extendLease: the worker's heartbeat. Moves a current lease's deadline; refuses a stale, foreign or expired lease.

KEYS[1] inflight   ZSET taskId -> lease deadline (Unix ms)
KEYS[2] tasks      HASH taskId -> task JSON

ARGV[1] now (Unix ms)   ARGV[2] task id   ARGV[3] lease   ARGV[4] new deadline (Unix ms)

Returns { status, task JSON } with status ok | missing | foreign (not leased with this token) | expired.
]]

local now, id = tonumber(ARGV[1]), ARGV[2]
local j = redis.call('HGET', KEYS[2], id)
if not j then return { 'missing' } end
local m = cjson.decode(j)
if m.state ~= 'in_flight' or m.lease ~= ARGV[3] then return { 'foreign', j } end
if m.lease_until <= now then return { 'expired', j } end
m.lease_until = tonumber(ARGV[4])
j = cjson.encode(m)
redis.call('HSET', KEYS[2], id, j)
redis.call('ZADD', KEYS[1], m.lease_until, id)
return { 'ok', j }
