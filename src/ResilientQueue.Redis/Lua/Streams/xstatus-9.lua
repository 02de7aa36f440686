--[[
  xstatus-9: one group's counts by state, its paused flag and its dead-letter trim total, read in one step. Ready is
  what the group was not given yet plus what came back; delayed adds the queue's delayed enqueues (they reach every
  group) to the group's retries.

  KEYS[1] gmeta      hash    {rq:q}:g:<g>:meta        read, paused, dtrim
  KEYS[2] meta       hash    {rq:q}:meta              added
  KEYS[3] stream     stream  {rq:q}:stream
  KEYS[4] qdelayed   zset    {rq:q}:delayed
  KEYS[5] ready      list    {rq:q}:g:<g>:ready
  KEYS[6] delayed    zset    {rq:q}:g:<g>:delayed
  KEYS[7] active     zset    {rq:q}:g:<g>:active
  KEYS[8] dead       zset    {rq:q}:g:<g>:dead
  KEYS[9] completed  zset    {rq:q}:g:<g>:completed

  ARGV[1] where a group not created yet will start: "0" or "$"

  Returns {ready, delayed, active, dead, completed, paused (1/0), dead-letter trims}.
]]
--!include _common.lua
--!include _transitions.lua
--!include _streams.lua
local m = redis.call('HMGET', KEYS[1], 'read', 'paused', 'dtrim')
local added = tonumber(redis.call('HGET', KEYS[2], 'added') or '0')
return {
  undelivered_of(KEYS[3], added, m[1], ARGV[1]) + redis.call('LLEN', KEYS[5]),
  redis.call('ZCARD', KEYS[4]) + redis.call('ZCARD', KEYS[6]),
  redis.call('ZCARD', KEYS[7]),
  redis.call('ZCARD', KEYS[8]),
  redis.call('ZCARD', KEYS[9]),
  m[2] == '1' and 1 or 0,
  tonumber(m[3] or '0'),
}
