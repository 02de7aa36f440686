--[[
  reap-8: takes back jobs whose lease deadline has passed, oldest deadline first: ready at the head of their
  priority with attempts kept when attempts remain, else dead-lettered with category LeaseExpired. The failure is
  recorded on the job and its lease removed, so the old worker's lease is lost.

  KEYS[1] meta      hash   {rq:q}:meta       depth counter, head sequence, dtrim
  KEYS[2] ready     list   {rq:q}:ready
  KEYS[3] prio      zset   {rq:q}:prio
  KEYS[4] active    zset   {rq:q}:active     ids by lease deadline (ms)
  KEYS[5] dead      zset   {rq:q}:dead
  KEYS[6] delayed   zset   {rq:q}:delayed    (not written; declared so every structure of the queue is)
  KEYS[7] lease     hash   {rq:q}:lease
  KEYS[8] attempts  hash   {rq:q}:attempts
  derived           string {rq:q}:job:<id> (header);  hash {rq:q}:x:<id>

  ARGV[1] now (ms)   ARGV[2] n (1..1000)   ARGV[3] dry run (1/0)   ARGV[4] dead-letter max entries
  ARGV[5] dead-letter max age (ms)   ARGV[6] notify channel   ARGV[7] category LeaseExpired (ErrorCategory value)
  ARGV[8] minimum age of an expired lease (ms): only deadlines at or before now - ARGV[8]

  Returns {{id, action (0 requeued, 1 dead-lettered), attempts, max attempts, deadline (ms)}..., {trimmed...}}:
          the last element lists dead-letter trims as in fail-8. The recorded error reads
          "LeaseExpired: the lease ran out at <deadline, ISO 8601 UTC> without an ack (...)", exactly as the
          in-memory backend writes it.
]]
--!include _common.lua
local meta, ready, prio, active, dead, lease, attempts = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[7], KEYS[8]
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local dry = ARGV[3] == '1'
local max_entries, max_age, channel = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local cat = tonumber(ARGV[7])

local expired = redis.call('ZRANGEBYSCORE', active, '-inf', fmt(now - tonumber(ARGV[8])), 'WITHSCORES', 'LIMIT', 0, n)
local out, trimmed = {}, {}
local wake, died = false, false
for i = 1, #expired, 2 do
  local id, deadline = expired[i], tonumber(expired[i + 1])
  local pr, max = header(id)
  if pr == nil then
    -- the envelope is gone (deleted by hand): nothing to take back, only stale index entries
    if not dry then
      redis.call('ZREM', active, id)
      redis.call('HDEL', lease, id)
    end
  else
    local a = get_attempts(attempts, id)
    local action = a < max and 0 or 1
    out[#out + 1] = { id, action, a, max, fmt(deadline) }
    if not dry then
      local err = 'LeaseExpired: the lease ran out at ' .. iso_utc(deadline) ..
        ' without an ack (worker crashed, hung or lost its connection)'
      record_failure(attempts, id, now, a, cat, err)
      redis.call('HDEL', lease, id)
      redis.call('ZREM', active, id)
      if action == 0 then
        redis.call('HSET', xkey(id), 'v', fmt(now))
        push_ready(meta, ready, prio, id, pr, true)
        wake = true
      else
        local reason = 'Max attempts (' .. max .. ') exhausted. Last error: ' .. err
        redis.call('HSET', xkey(id), 'dt', fmt(now), 'dr', reason, 'dc', cat)
        redis.call('ZADD', dead, fmt(now), id)
        redis.call('HINCRBY', meta, 'depth', -1)
        died = true
      end
    end
  end
end
if died then trim_dead(meta, dead, attempts, max_entries, now - max_age, trimmed) end
if wake then redis.call('PUBLISH', channel, '1') end
out[#out + 1] = trimmed
return out
