--[[
  renew-2: moves a current lease's deadline.

  KEYS[1] meta    hash   {rq:q}:meta   (prefix only)
  KEYS[2] active  zset   {rq:q}:active
  derived         hash   {rq:q}:job:<id>

  ARGV[1] id   ARGV[2] token   ARGV[3] new deadline (ms)

  Returns 1 renewed, 0 lease lost (nothing changed).
]]
--!include _common.lua
local key = jobkey(ARGV[1])
if redis.call('HGET', key, 't') ~= ARGV[2] then return 0 end
redis.call('HSET', key, 'l', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
