--[[
  checkpoint-1: stores a checkpoint on a job whose lease is current.

  KEYS[1] meta   hash   {rq:q}:meta   (prefix only)
  derived        hash   {rq:q}:job:<id>

  ARGV[1] id   ARGV[2] token   ARGV[3] checkpoint bytes

  Returns 1 saved, 0 lease lost (nothing changed).
]]
--!include _common.lua
local key = jobkey(ARGV[1])
if redis.call('HGET', key, 't') ~= ARGV[2] then return 0 end
redis.call('HSET', key, 'c', ARGV[3])
return 1
