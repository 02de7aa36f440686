--[[
  release-6: gives a leased job back without spending an attempt: ready at the head of its priority.

  KEYS[1] meta      hash   {rq:q}:meta       head sequence
  KEYS[2] ready     list   {rq:q}:ready
  KEYS[3] prio      zset   {rq:q}:prio
  KEYS[4] active    zset   {rq:q}:active
  KEYS[5] lease     hash   {rq:q}:lease
  KEYS[6] attempts  hash   {rq:q}:attempts
  derived           string {rq:q}:job:<id> (header);  hash {rq:q}:x:<id> (v)

  ARGV[1] id   ARGV[2] token   ARGV[3] now (ms)   ARGV[4] notify channel

  Returns 1 released, 0 lease lost (nothing changed).
]]
--!include _common.lua
local meta, ready, prio, active, lease, attempts = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local id = ARGV[1]
if redis.call('HGET', lease, id) ~= ARGV[2] then return 0 end
local a = get_attempts(attempts, id)
redis.call('HSET', xkey(id), 'v', ARGV[3])
redis.call('HSET', attempts, id, attempts_value(a - 1, true))
redis.call('HDEL', lease, id)
redis.call('ZREM', active, id)
push_ready(meta, ready, prio, id, header(id), true)
redis.call('PUBLISH', ARGV[4], '1')
return 1
