--[[
recordTrainingStep: returns a training run's rolling window as it was, then prepends this step's record.
One call per reported step (report_training_metric is one round trip).

KEYS[1] {tr:<project>/<run>}:window  STRING  the last N steps, newest first, 16 bytes each:
                                             loss then grad norm, IEEE-754 doubles, little-endian; NaN = not reported / not finite

ARGV[1] this step's 16-byte record, or "" when the step has neither a finite loss nor a finite grad norm (nothing is prepended)
ARGV[2] window size in bytes (N * 16): older records are dropped
ARGV[3] idle retention in milliseconds: the window expires this long after the last step

Returns the window (bulk string, possibly empty) read before the update.
]]

local old = redis.call('GET', KEYS[1]) or ''
if ARGV[1] ~= '' then
  local keep = tonumber(ARGV[2]) - #ARGV[1]
  redis.call('SET', KEYS[1], ARGV[1] .. string.sub(old, 1, keep), 'PX', ARGV[3])
elseif old ~= '' then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return old
