--[[
  xrequeue-9: moves one dead-lettered job of a group back as decided (the core's JobTransitions: ready at the tail of
  the jobs that came back, attempts kept or reset). Atomic: of concurrent calls for one entry exactly one finds it in
  the dead set. Its dead-letter fields are cleared; its failure history and the group's copy of its envelope stay.

  KEYS[1] gmeta     hash    {rq:q}:g:<g>:meta
  KEYS[2] meta      hash    {rq:q}:meta             added (the group's depth, for the capacity check)
  KEYS[3] stream    stream  {rq:q}:stream
  KEYS[4] entries   hash    {rq:q}:entries
  KEYS[5] qdelayed  zset    {rq:q}:delayed
  KEYS[6] ready     list    {rq:q}:g:<g>:ready
  KEYS[7] delayed   zset    {rq:q}:g:<g>:delayed
  KEYS[8] dead      zset    {rq:q}:g:<g>:dead
  KEYS[9] attempts  hash    {rq:q}:g:<g>:attempts
  derived           hash {rq:q}:g:<g>:x:<id>;  zset {rq:q}:g:<g>:active (the depth)

  ARGV[1] id   ARGV[2] capacity   ARGV[3] notify channel   ARGV[4] group
  ARGV[5] destination (0 ready, 1 delayed)   ARGV[6] at head (1/0)   ARGV[7] available at (ms)
  ARGV[8] attempt change (0 keep, 1 refund, 2 reset)

  Returns {0} requeued, {1} the job exists but is not dead-lettered, {2} no such job, {-1, depth} the group is full.
]]
--!include _common.lua
--!include _transitions.lua
--!include _streams.lua
local gmeta, qmeta, stream, entries, qdelayed, ready, delayed, dead, attempts =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local id, capacity, channel, group = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
if not redis.call('ZSCORE', dead, id) then
  if redis.call('HEXISTS', attempts, id) == 1 or redis.call('HEXISTS', entries, id) == 1 or redis.call('ZSCORE', qdelayed, id) then
    return { 1 }
  end
  return { 2 }
end
local added = tonumber(redis.call('HGET', qmeta, 'added') or '0')
local depth = group_depth(stream, qdelayed, group, added, redis.call('HGET', gmeta, 'read'), '0')
if depth + 1 > capacity then return { -1, depth } end
redis.call('ZREM', dead, id)
redis.call('HDEL', xkey(id), 'dt', 'dr', 'dc')
local a = changed_attempts(get_attempts(attempts, id), tonumber(ARGV[8]), id)
redis.call('HSET', attempts, id, attempts_value(a, true))
redis.call('HSET', xkey(id), 'v', ARGV[7])
if tonumber(ARGV[5]) == DEST_DELAYED then
  redis.call('ZADD', delayed, ARGV[7], id)
elseif ARGV[6] == '1' then
  redis.call('RPUSH', ready, id)
else
  redis.call('LPUSH', ready, id)
end
redis.call('PUBLISH', channel, '1')
return { 0 }
