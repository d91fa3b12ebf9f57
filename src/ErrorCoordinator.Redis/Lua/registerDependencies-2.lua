--[[
registerDependencies: replaces one component's dependency list in the graph, unless the graph is full.

KEYS[1]  dep:graph          HASH  component -> JSON array of the components it depends on (sorted)
KEYS[2]  dep:graph:updated  HASH  component -> when its list last changed (Unix ms)

ARGV[1]  component
ARGV[2]  dependency list (JSON array, sorted and de-duplicated by the caller)
ARGV[3]  now (Unix ms)
ARGV[4]  most components the graph may hold

Returns 1 stored, 0 unchanged (the same list was stored), -1 graph full (a new component past ARGV[4]; nothing written).
]]
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current == ARGV[2] then return 0 end
if not current and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1
