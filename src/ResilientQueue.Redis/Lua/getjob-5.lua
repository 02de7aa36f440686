--[[
  getjob-5: reads one job and its state, in one step.

  KEYS[1] meta       hash   {rq:q}:meta   (prefix only)
  KEYS[2] delayed    zset   {rq:q}:delayed
  KEYS[3] active     zset   {rq:q}:active
  KEYS[4] dead       zset   {rq:q}:dead
  KEYS[5] completed  zset   {rq:q}:completed
  derived            hash   {rq:q}:job:<id>

  ARGV[1] id

  Returns {state (JobState value: 0 ready, 1 delayed, 2 active, 3 dead, 4 completed), fields (HGETALL)}, or
          false (nil) when there is no such job.
]]
--!include _common.lua
local id = ARGV[1]
local fields = redis.call('HGETALL', jobkey(id))
if #fields == 0 then return false end
local state = 0
if redis.call('ZSCORE', KEYS[3], id) then state = 2
elseif redis.call('ZSCORE', KEYS[2], id) then state = 1
elseif redis.call('ZSCORE', KEYS[4], id) then state = 3
elseif redis.call('ZSCORE', KEYS[5], id) then state = 4
end
return { state, fields }
