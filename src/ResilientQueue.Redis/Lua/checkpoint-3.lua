--[[
  checkpoint-3: stores a checkpoint on a job whose lease is current.

  KEYS[1] meta      hash   {rq:q}:meta   (prefix only)
  KEYS[2] lease     hash   {rq:q}:lease
  KEYS[3] attempts  hash   {rq:q}:attempts (x flag)
  derived           hash   {rq:q}:x:<id>

  ARGV[1] id   ARGV[2] token   ARGV[3] checkpoint bytes

  Returns 1 saved, 0 lease lost (nothing changed).
]]
--!include _common.lua
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
set_x(KEYS[3], ARGV[1], 'c', ARGV[3])
return 1
