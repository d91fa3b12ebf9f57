--[[
recordTrainingStep: returns a training run's rolling window as it was, then appends this step's finite values.
One call per reported step (report_training_metric is one round trip).

KEYS[1] {tr:<project>/<run>}:losses      LIST  previous finite losses, newest first
KEYS[2] {tr:<project>/<run>}:grad_norms  LIST  previous finite gradient norms, newest first

ARGV[1] loss as a round-trip number, or "" when it is not finite (NaN/Infinity are never stored)
ARGV[2] grad norm as a round-trip number, or "" when absent or not finite
ARGV[3] window size N: each list keeps at most N values
ARGV[4] idle retention in milliseconds: both lists expire this long after the last step

Returns { LRANGE losses 0 N-1, LRANGE grad_norms 0 N-1 } read before the append.
]]

local n = tonumber(ARGV[3])
local ttl = ARGV[4]
local losses = redis.call('LRANGE', KEYS[1], 0, n - 1)
local grads = redis.call('LRANGE', KEYS[2], 0, n - 1)
if ARGV[1] ~= '' then
  redis.call('LPUSH', KEYS[1], ARGV[1])
  redis.call('LTRIM', KEYS[1], 0, n - 1)
end
if ARGV[2] ~= '' then
  redis.call('LPUSH', KEYS[2], ARGV[2])
  redis.call('LTRIM', KEYS[2], 0, n - 1)
end
-- PEXPIRE on a missing key is a no-op, so a run with no finite value yet leaves nothing behind.
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return { losses, grads }
