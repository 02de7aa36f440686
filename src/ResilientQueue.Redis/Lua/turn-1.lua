--[[
  turn-1: claims a maintenance turn (e.g. the reaper's) for one holder across processes: of concurrent claims
  within one turn exactly one succeeds.

  KEYS[1] meta   hash     {rq:q}:meta   (prefix only)
  derived        string   {rq:q}:turn:<name>  "holder|until ms"; the caller's clock decides whether the turn is
                          past; the server TTL (turn + 60 s) only collects the key

  ARGV[1] name   ARGV[2] holder   ARGV[3] now (ms)   ARGV[4] turn length (ms)

  Returns 1 claimed, 0 another holder's turn is not over.
]]
--!include _common.lua
local key = turnkey(ARGV[1])
local now, length = tonumber(ARGV[3]), tonumber(ARGV[4])
local current = redis.call('GET', key)
if current then
  local sep = string.find(current, '|', 1, true)
  if sep and tonumber(string.sub(current, sep + 1)) > now then return 0 end
end
redis.call('SET', key, ARGV[2] .. '|' .. fmt(now + length), 'PX', fmt(length + 60000))
return 1
