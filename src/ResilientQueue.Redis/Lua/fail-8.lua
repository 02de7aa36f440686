--[[
  fail-8: records failures of leased jobs whose token is current and applies each decision.

  KEYS[1] meta      hash   {rq:q}:meta       depth counter, seq counters, dtrim (dead-letter trims in all)
  KEYS[2] ready     list   {rq:q}:ready
  KEYS[3] prio      zset   {rq:q}:prio
  KEYS[4] delayed   zset   {rq:q}:delayed
  KEYS[5] active    zset   {rq:q}:active
  KEYS[6] dead      zset   {rq:q}:dead       ids by dead-letter time (ms)
  KEYS[7] lease     hash   {rq:q}:lease
  KEYS[8] attempts  hash   {rq:q}:attempts
  derived           string {rq:q}:job:<id> (header: priority, max attempts);  hash {rq:q}:x:<id>

  ARGV[1] now (ms)   ARGV[2] dead-letter max entries   ARGV[3] dead-letter max age (ms)   ARGV[4] notify channel
  ARGV[5] n; then 8 values per failure: id, token, action (0 retry, 1 dead-letter, 2 skip, 3 pause, 4 abort),
          delay (ms), spends attempt (1/0), reason, error ("TypeName: message"), category (ErrorCategory value)

  Returns {{r1 .. rn}, {trimmed...}}: ri = 1 applied, 0 lease lost (nothing changed for that job); trimmed lists
          dead-letter entries removed by the store's bounds as {id, "age"|"count", dead at (ms), dead reason}.
]]
--!include _common.lua
local meta, ready, prio, delayed, active, dead, lease, attempts = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local now = tonumber(ARGV[1])
local max_entries = tonumber(ARGV[2])
local max_age = tonumber(ARGV[3])
local channel = ARGV[4]
local n = tonumber(ARGV[5])
local FIELDS = 8

local results, trimmed = {}, {}
local wake, died = false, false
for i = 1, n do
  local base = 5 + (i - 1) * FIELDS
  local id, token = ARGV[base + 1], ARGV[base + 2]
  if redis.call('HGET', lease, id) ~= token then
    results[i] = 0
  else
    results[i] = 1
    local action, delay, spends = tonumber(ARGV[base + 3]), tonumber(ARGV[base + 4]), ARGV[base + 5] == '1'
    local reason, err, cat = ARGV[base + 6], ARGV[base + 7], tonumber(ARGV[base + 8])
    local pr, max = header(id)
    local a = get_attempts(attempts, id)
    record_failure(attempts, id, now, a, cat, err)
    redis.call('HDEL', lease, id)
    redis.call('ZREM', active, id)

    if action == 0 and spends and a >= max then
      action = 1
      reason = 'Max attempts (' .. max .. ') exhausted. Last error: ' .. err
    end
    if action == 0 or action == 3 then
      if not spends then redis.call('HSET', attempts, id, attempts_value(a - 1, true)) end
      if delay > 0 then
        redis.call('HSET', xkey(id), 'v', fmt(now + delay))
        redis.call('ZADD', delayed, fmt(now + delay), id)
      else
        redis.call('HSET', xkey(id), 'v', fmt(now))
        push_ready(meta, ready, prio, id, pr, false)
      end
      wake = true
    elseif action == 4 then
      redis.call('HSET', attempts, id, attempts_value(a - 1, true))
      redis.call('HSET', xkey(id), 'v', fmt(now))
      push_ready(meta, ready, prio, id, pr, true)
      wake = true
    elseif action == 1 then
      redis.call('HSET', xkey(id), 'dt', fmt(now), 'dr', reason, 'dc', cat)
      redis.call('ZADD', dead, fmt(now), id)
      redis.call('HINCRBY', meta, 'depth', -1)
      died = true
    else -- 2: skip
      delete_jobs(attempts, nil, { id })
      redis.call('HINCRBY', meta, 'depth', -1)
    end
  end
end
if died then trim_dead(meta, dead, attempts, max_entries, now - max_age, trimmed) end
if wake then redis.call('PUBLISH', channel, '1') end
return { results, trimmed }
