--[[
  expired-4: finds leases whose deadline is at or before a time, oldest first, for the reaper to decide on (it changes
  no job: the reaper's decisions go through transition-8, which checks each lease again). Index entries of jobs whose
  envelope is gone (deleted by hand) are dropped on the way.

  KEYS[1] meta      hash   {rq:q}:meta       (prefix only)
  KEYS[2] active    zset   {rq:q}:active     ids by lease deadline (ms)
  KEYS[3] lease     hash   {rq:q}:lease
  KEYS[4] attempts  hash   {rq:q}:attempts
  derived           string {rq:q}:job:<id> (header: max attempts);  hash {rq:q}:started;  hash {rq:q}:x:<id> (field ur)

  ARGV[1] expired by (ms)   ARGV[2] n (1..1000)

  Returns {id, token, deadline (ms), attempts, max attempts, started (1 when the lease's handler was marked started,
          else 0), unstarted refunds so far, ...}, oldest deadline first.
]]
--!include _common.lua
local active, lease, attempts = KEYS[2], KEYS[3], KEYS[4]
local expired = redis.call('ZRANGEBYSCORE', active, '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for i = 1, #expired, 2 do
  local id, deadline = expired[i], expired[i + 1]
  local token = redis.call('HGET', lease, id)
  local _, max = header(id)
  if token and max then
    out[#out + 1] = id; out[#out + 1] = token; out[#out + 1] = deadline
    local a, hasx = get_attempts(attempts, id)
    out[#out + 1] = a; out[#out + 1] = max
    out[#out + 1] = redis.call('HGET', startedkey(), id) == token and 1 or 0
    out[#out + 1] = hasx and tonumber(redis.call('HGET', xkey(id), 'ur') or '0') or 0
  else
    redis.call('ZREM', active, id)
    redis.call('HDEL', lease, id)
    redis.call('HDEL', startedkey(), id)
  end
end
return out
