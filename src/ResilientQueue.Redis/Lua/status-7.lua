--[[
  status-7: counts by state, the paused flag and the dead-letter trim total, read in one step.

  KEYS[1] meta       hash   {rq:q}:meta   paused, dtrim
  KEYS[2] ready      list   {rq:q}:ready
  KEYS[3] prio       zset   {rq:q}:prio
  KEYS[4] delayed    zset   {rq:q}:delayed
  KEYS[5] active     zset   {rq:q}:active
  KEYS[6] dead       zset   {rq:q}:dead
  KEYS[7] completed  zset   {rq:q}:completed

  ARGV none.

  Returns {ready, delayed, active, dead, completed, paused (1/0), dead-letter trims}.
]]
local m = redis.call('HMGET', KEYS[1], 'paused', 'dtrim')
return {
  redis.call('LLEN', KEYS[2]) + redis.call('ZCARD', KEYS[3]),
  redis.call('ZCARD', KEYS[4]),
  redis.call('ZCARD', KEYS[5]),
  redis.call('ZCARD', KEYS[6]),
  redis.call('ZCARD', KEYS[7]),
  m[1] == '1' and 1 or 0,
  tonumber(m[2] or '0'),
}
