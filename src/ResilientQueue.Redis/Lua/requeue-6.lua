--[[
  requeue-6: moves one dead-lettered job back as decided (the core's JobTransitions: ready at the tail, attempts kept
  or reset). Atomic: of concurrent calls for one entry exactly one finds it in the dead set. Its dead-letter fields are
  cleared; its failure history stays.

  KEYS[1] meta      hash   {rq:q}:meta       depth counter (capacity check), seq counters
  KEYS[2] ready     list   {rq:q}:ready
  KEYS[3] prio      zset   {rq:q}:prio
  KEYS[4] delayed   zset   {rq:q}:delayed
  KEYS[5] dead      zset   {rq:q}:dead
  KEYS[6] attempts  hash   {rq:q}:attempts
  derived           string {rq:q}:job:<id> (header);  hash {rq:q}:x:<id>

  ARGV[1] id   ARGV[2] capacity   ARGV[3] now (ms)   ARGV[4] notify channel
  ARGV[5] destination (0 ready, 1 delayed)   ARGV[6] at head (1/0)   ARGV[7] available at (ms)
  ARGV[8] attempt change (0 keep, 1 refund, 2 reset)

  Returns {0} requeued, {1} the job exists but is not dead-lettered, {2} no such job, {-1, depth} queue full.
]]
--!include _common.lua
--!include _transitions.lua
local meta, ready, prio, delayed, dead, attempts = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local id, now = ARGV[1], tonumber(ARGV[3])
if not redis.call('ZSCORE', dead, id) then
  if redis.call('EXISTS', jobkey(id)) == 1 then return { 1 } end
  return { 2 }
end
local depth = tonumber(redis.call('HGET', meta, 'depth') or '0')
if depth + 1 > tonumber(ARGV[2]) then return { -1, depth } end
redis.call('ZREM', dead, id)
redis.call('HDEL', xkey(id), 'dt', 'dr', 'dc')
redis.call('HINCRBY', meta, 'depth', 1)
move(meta, ready, prio, delayed, dead, attempts, id, header(id), tonumber(ARGV[5]), ARGV[6] == '1', tonumber(ARGV[7]),
  changed_attempts(get_attempts(attempts, id), tonumber(ARGV[8])), now, '', 0)
redis.call('PUBLISH', ARGV[4], '1')
return { 0 }
