--[[
  peek-4: what an idle consumer needs to decide whether to fetch or wait.

  KEYS[1] meta     hash   {rq:q}:meta   paused
  KEYS[2] ready    list   {rq:q}:ready
  KEYS[3] prio     zset   {rq:q}:prio
  KEYS[4] delayed  zset   {rq:q}:delayed

  ARGV none.

  Returns {paused (1/0), ready count, earliest due time (ms) or -1}.
]]
local due = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
return {
  redis.call('HGET', KEYS[1], 'paused') == '1' and 1 or 0,
  redis.call('LLEN', KEYS[2]) + redis.call('ZCARD', KEYS[3]),
  #due > 0 and tonumber(due[2]) or -1,
}
