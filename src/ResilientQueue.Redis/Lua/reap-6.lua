--[[
  reap-6: takes back jobs whose lease deadline has passed, oldest deadline first: ready at the head of their
  priority with attempts kept when attempts remain, else dead-lettered with category LeaseExpired. The failure is
  recorded on the job and its token removed, so the old worker's lease is lost.

  KEYS[1] meta     hash   {rq:q}:meta      depth counter, head sequence, dtrim
  KEYS[2] ready    list   {rq:q}:ready
  KEYS[3] prio     zset   {rq:q}:prio
  KEYS[4] active   zset   {rq:q}:active    ids by lease deadline (ms)
  KEYS[5] dead     zset   {rq:q}:dead
  KEYS[6] delayed  zset   {rq:q}:delayed   (not written; listed so every queue key is declared)
  derived          hash   {rq:q}:job:<id>

  ARGV[1] now (ms)   ARGV[2] n (1..1000)   ARGV[3] dry run (1/0)   ARGV[4] dead-letter max entries
  ARGV[5] dead-letter max age (ms)   ARGV[6] notify channel   ARGV[7] category LeaseExpired (ErrorCategory value)

  Returns {{id, action (0 requeued, 1 dead-lettered), attempts, max attempts, deadline (ms)}..., {trimmed...}}:
          the last element lists dead-letter trims as in fail-6. The recorded error reads
          "LeaseExpired: the lease ran out at <deadline, ISO 8601 UTC> without an ack (...)", exactly as the
          in-memory backend writes it.
]]
--!include _common.lua
local meta, ready, prio, active, dead = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local dry = ARGV[3] == '1'
local max_entries, max_age, channel = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local cat = tonumber(ARGV[7])
local HISTORY = 10

local expired = redis.call('ZRANGEBYSCORE', active, '-inf', fmt(now), 'WITHSCORES', 'LIMIT', 0, n)
local out, trimmed = {}, {}
local wake, died = false, false
for i = 1, #expired, 2 do
  local id, deadline = expired[i], tonumber(expired[i + 1])
  local key = jobkey(id)
  local cur = redis.call('HMGET', key, 'a', 'm', 'pr', 'f')
  local attempts, max, pr = tonumber(cur[1]), tonumber(cur[2]), tonumber(cur[3])
  if attempts == nil then
    -- the job hash is gone (deleted by hand): nothing to take back, only the stale index entry
    if not dry then redis.call('ZREM', active, id) end
  else
    local action = attempts < max and 0 or 1
    out[#out + 1] = { id, action, attempts, max, fmt(deadline) }
    if not dry then
      local err = 'LeaseExpired: the lease ran out at ' .. iso_utc(deadline) ..
        ' without an ack (worker crashed, hung or lost its connection)'
      local history = cur[4] and cjson.decode(cur[4]) or {}
      if #history >= HISTORY then table.remove(history, 2) end
      history[#history + 1] = { now, attempts, cat, err }
      redis.call('HSET', key, 'err', err, 'ec', cat, 'f', cjson.encode(history))
      redis.call('HDEL', key, 't', 'l')
      redis.call('ZREM', active, id)
      if action == 0 then
        redis.call('HSET', key, 'v', fmt(now))
        push_ready(meta, ready, prio, id, pr, true)
        wake = true
      else
        local reason = 'Max attempts (' .. max .. ') exhausted. Last error: ' .. err
        redis.call('HSET', key, 'dt', fmt(now), 'dr', reason, 'dc', cat)
        redis.call('ZADD', dead, fmt(now), id)
        redis.call('HINCRBY', meta, 'depth', -1)
        died = true
      end
    end
  end
end
if died then trim_dead(meta, dead, max_entries, now - max_age, trimmed) end
if wake then redis.call('PUBLISH', channel, '1') end
out[#out + 1] = trimmed
return out
