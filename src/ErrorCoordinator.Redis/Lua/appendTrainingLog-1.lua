--[[
appendTrainingLog: appends one anomaly to a project's training log, capped and kept for the retention.

KEYS[1] {trlog:<project>}:log  LIST  anomaly JSON, newest first

ARGV[1] entry JSON
ARGV[2] max entries kept
ARGV[3] retention in milliseconds past this append

Returns the log's length after trimming.
]]

redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return redis.call('LLEN', KEYS[1])
