--[[
  requeue-5: moves one dead-lettered job back to ready (the tail of its priority). Atomic: of concurrent calls for
  one entry exactly one finds it in the dead set.

  KEYS[1] meta      hash   {rq:q}:meta       depth counter (capacity check)
  KEYS[2] ready     list   {rq:q}:ready
  KEYS[3] prio      zset   {rq:q}:prio
  KEYS[4] dead      zset   {rq:q}:dead
  KEYS[5] attempts  hash   {rq:q}:attempts
  derived           string {rq:q}:job:<id> (header);  hash {rq:q}:x:<id>

  ARGV[1] id   ARGV[2] reset attempts (1/0)   ARGV[3] capacity   ARGV[4] now (ms)   ARGV[5] notify channel

  Returns {0} requeued, {1} the job exists but is not dead-lettered, {2} no such job, {-1, depth} queue full.
]]
--!include _common.lua
local meta, ready, prio, dead, attempts = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id = ARGV[1]
if not redis.call('ZSCORE', dead, id) then
  if redis.call('EXISTS', jobkey(id)) == 1 then return { 1 } end
  return { 2 }
end
local depth = tonumber(redis.call('HGET', meta, 'depth') or '0')
if depth + 1 > tonumber(ARGV[3]) then return { -1, depth } end
redis.call('ZREM', dead, id)
redis.call('HDEL', xkey(id), 'dt', 'dr', 'dc')
if ARGV[2] == '1' then redis.call('HSET', attempts, id, '0') end
set_x(attempts, id, 'v', ARGV[4])
push_ready(meta, ready, prio, id, header(id), false)
redis.call('HINCRBY', meta, 'depth', 1)
redis.call('PUBLISH', ARGV[5], '1')
return { 0 }
