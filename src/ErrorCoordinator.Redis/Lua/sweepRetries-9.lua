--[[
sweepRetries: the background sweep, for when nobody claims. Returns expired leases to due (or dead-letters tasks delivered
max_attempts times) and trims dead letters past the age and count caps.

KEYS[1] due        ZSET taskId -> due time (Unix ms)
KEYS[2] inflight   ZSET taskId -> lease deadline (Unix ms)
KEYS[3] tasks      HASH taskId -> task JSON
KEYS[4] payloads   HASH taskId -> payload
KEYS[5] history    HASH taskId -> JSON array of history entries
KEYS[6] idem       HASH idempotency key -> taskId
KEYS[7] dlq        ZSET taskId -> dead-lettered time (Unix ms)
KEYS[8] stats      HASH counters (name, name|a|<agent>, name|c|<component>)
KEYS[9] audit      STREAM field "json", capped (MAXLEN ~)

ARGV[1] now (Unix ms)   ARGV[2] now ISO-8601   ARGV[3] event id base   ARGV[4] retry_exhausted channel
ARGV[5] dead-letter max age (ms)   ARGV[6] dead-letter max count   ARGV[7] history entries per task   ARGV[8] audit max length
ARGV[9] expired leases returned at most

Returns { leases returned, tasks dead-lettered, dead letters trimmed }.
]]

--#include retryQueue.lib

local now = tonumber(ARGV[1])
local L = { max_age = tonumber(ARGV[5]), max_count = tonumber(ARGV[6]), hist = tonumber(ARGV[7]), audit = ARGV[8] }
local requeued, dead = reap(now, ARGV[2], ARGV[3], ARGV[4], L, tonumber(ARGV[9]))
local trimmed = trim(now, L)
return { requeued, dead, trimmed }
