--[[
appendHardwareLog: appends a GPU finding to the hardware log unless the same finding (signature) was appended within the
dedup window, so a condition that persists is not reported on every probe, by this server or another one.

KEYS[1] {hw}:gpu:log               LIST    finding JSON, newest first
KEYS[2] {hw}:gpu:seen:<signature>  STRING  present while the signature is inside its dedup window

ARGV[1] entry JSON
ARGV[2] dedup window in milliseconds
ARGV[3] max entries kept in the log
ARGV[4] log retention in milliseconds past this append

Returns 1 when appended, 0 when the signature is inside its dedup window (nothing written).
]]

if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return 0 end
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[3]) - 1)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
