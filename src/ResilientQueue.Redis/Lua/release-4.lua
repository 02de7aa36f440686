--[[
  release-4: gives a leased job back without spending an attempt: ready at the head of its priority.

  KEYS[1] meta    hash   {rq:q}:meta   head sequence
  KEYS[2] ready   list   {rq:q}:ready
  KEYS[3] prio    zset   {rq:q}:prio
  KEYS[4] active  zset   {rq:q}:active
  derived         hash   {rq:q}:job:<id>

  ARGV[1] id   ARGV[2] token   ARGV[3] now (ms)   ARGV[4] notify channel

  Returns 1 released, 0 lease lost (nothing changed).
]]
--!include _common.lua
local id = ARGV[1]
local key = jobkey(id)
if redis.call('HGET', key, 't') ~= ARGV[2] then return 0 end
local cur = redis.call('HMGET', key, 'a', 'pr')
redis.call('HSET', key, 'a', tonumber(cur[1]) - 1, 'v', ARGV[3])
redis.call('HDEL', key, 't', 'l')
redis.call('ZREM', KEYS[4], id)
push_ready(KEYS[1], KEYS[2], KEYS[3], id, tonumber(cur[2]), true)
redis.call('PUBLISH', ARGV[4], '1')
return 1
