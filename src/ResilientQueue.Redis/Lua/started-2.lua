--[[
  started-2: marks leases whose handler has started, each only while its token is current. A lease that runs out
  unmarked is taken back by the reaper with its attempt given back (its job never ran); marked, the attempt counts.
  The worker writes these marks shortly after the start, group-committed, and drops the marks of jobs whose outcome
  was written first.

  KEYS[1] meta      hash   {rq:q}:meta      (prefix only)
  KEYS[2] lease     hash   {rq:q}:lease
  derived           hash {rq:q}:started   id -> token

  ARGV[1] n; then n pairs: id, token

  Returns {r1 .. rn}: 1 = marked, 0 = lease lost.
]]
--!include _common.lua
--!include _transitions.lua
local n = tonumber(ARGV[1])
local ids, current = current_leases(KEYS[2], 2, n)
local results, marks = {}, {}
for i = 1, n do
  results[i] = current[i] and 1 or 0
  if current[i] then marks[#marks + 1] = ids[i]; marks[#marks + 1] = ARGV[3 + 2 * (i - 1)] end
end
if #marks > 0 then each_chunk('HSET', startedkey(), marks) end
return results
