--[[
  renew-3: moves the deadlines of current leases (token is the job's) to a new time.

  KEYS[1] meta      hash   {rq:q}:meta     (prefix only)
  KEYS[2] active    zset   {rq:q}:active   ids by lease deadline (ms)
  KEYS[3] lease     hash   {rq:q}:lease

  ARGV[1] new deadline (ms)   ARGV[2] n; then n pairs: id, token

  Returns {r1 .. rn}: 1 renewed, 0 lease lost (nothing changed for that job).
]]
--!include _common.lua
--!include _transitions.lua
local active, lease = KEYS[2], KEYS[3]
local deadline, n = ARGV[1], tonumber(ARGV[2])
local ids, current = current_leases(lease, 3, n)
local results, members = {}, {}
for i = 1, n do
  results[i] = current[i] and 1 or 0
  if current[i] then members[#members + 1] = deadline; members[#members + 1] = ids[i] end
end
if #members > 0 then each_chunk('ZADD', active, members) end
return results
