--[[
  getjob-6: reads one job and its state, in one step.

  KEYS[1] meta       hash   {rq:q}:meta   (prefix only)
  KEYS[2] delayed    zset   {rq:q}:delayed
  KEYS[3] active     zset   {rq:q}:active
  KEYS[4] dead       zset   {rq:q}:dead
  KEYS[5] completed  zset   {rq:q}:completed
  KEYS[6] attempts   hash   {rq:q}:attempts
  derived            string {rq:q}:job:<id>;  hash {rq:q}:x:<id>

  ARGV[1] id

  Returns {state (JobState value: 0 ready, 1 delayed, 2 active, 3 dead, 4 completed), envelope, attempts,
          x (HGETALL), lease deadline (ms, or -1 unless active)}, or {} when there is no such job (an empty array
  reads the same in RESP2 and RESP3, where a Lua false would arrive as a boolean).
]]
--!include _common.lua
local id = ARGV[1]
local envelope = redis.call('GET', jobkey(id))
if not envelope then return {} end
local a, hasx = get_attempts(KEYS[6], id)
local state, deadline = 0, -1
local leased = redis.call('ZSCORE', KEYS[3], id)
if leased then state = 2; deadline = tonumber(leased)
elseif redis.call('ZSCORE', KEYS[2], id) then state = 1
elseif redis.call('ZSCORE', KEYS[4], id) then state = 3
elseif redis.call('ZSCORE', KEYS[5], id) then state = 4
end
return { state, envelope, a, hasx and redis.call('HGETALL', xkey(id)) or {}, deadline }
