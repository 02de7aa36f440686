--[[
  ack-5: completes leased jobs whose token is current: deletes them, or keeps the newest `retention` completed.

  KEYS[1] meta       hash   {rq:q}:meta        depth counter, cseq (completion sequence)
  KEYS[2] active     zset   {rq:q}:active
  KEYS[3] completed  zset   {rq:q}:completed   ids by completion sequence (the time is x:<id> field ct)
  KEYS[4] lease      hash   {rq:q}:lease
  KEYS[5] attempts   hash   {rq:q}:attempts
  derived            string {rq:q}:job:<id>;  hash {rq:q}:x:<id>;  hash {rq:q}:started (marks removed)

  ARGV[1] now (ms)   ARGV[2] completed retention (0 = delete)   ARGV[3] n; then n pairs: id, token

  Returns {r1 .. rn}: 1 = completed, 0 = lease lost (nothing changed for that job).
]]
--!include _common.lua
--!include _transitions.lua
local meta, active, completed, lease, attempts = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = ARGV[1]
local retention = tonumber(ARGV[2])
local n = tonumber(ARGV[3])

local _, _, results, done = split_current(lease, 4, n)
if #done > 0 then complete_jobs(meta, active, completed, lease, attempts, done, now, retention) end
return results
