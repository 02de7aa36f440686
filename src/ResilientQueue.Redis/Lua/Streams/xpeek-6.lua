--[[
  xpeek-6: what an idle consumer of one group needs to decide whether to fetch or wait.

  KEYS[1] gmeta     hash    {rq:q}:g:<g>:meta      read, paused
  KEYS[2] meta      hash    {rq:q}:meta            added
  KEYS[3] stream    stream  {rq:q}:stream
  KEYS[4] qdelayed  zset    {rq:q}:delayed
  KEYS[5] ready     list    {rq:q}:g:<g>:ready
  KEYS[6] delayed   zset    {rq:q}:g:<g>:delayed

  ARGV[1] where a group not created yet will start: "0" or "$"

  Returns {paused (1/0), ready count, earliest due time (ms) or -1}.
]]
--!include _common.lua
--!include _transitions.lua
--!include _streams.lua
local m = redis.call('HMGET', KEYS[1], 'read', 'paused')
local added = tonumber(redis.call('HGET', KEYS[2], 'added') or '0')
local due = -1
for _, key in ipairs({ KEYS[4], KEYS[6] }) do
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if #first > 0 and (due < 0 or tonumber(first[2]) < due) then due = tonumber(first[2]) end
end
return {
  m[2] == '1' and 1 or 0,
  undelivered_of(KEYS[3], added, m[1], ARGV[1]) + redis.call('LLEN', KEYS[5]),
  due,
}
