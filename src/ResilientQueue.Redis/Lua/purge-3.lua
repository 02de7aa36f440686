--[[
  purge-3: deletes dead-letter entries: one by id, or up to `limit` of those dead at or before a time.

  KEYS[1] meta      hash   {rq:q}:meta   (prefix only)
  KEYS[2] dead      zset   {rq:q}:dead
  KEYS[3] attempts  hash   {rq:q}:attempts
  derived           string {rq:q}:job:<id>;  hash {rq:q}:x:<id>

  ARGV[1] mode: "id" or "upto"
          id:   ARGV[2] the job id
          upto: ARGV[2] the time (ms, inclusive) or "+inf"   ARGV[3] limit (1..1000)

  Returns the number of entries deleted.
]]
--!include _common.lua
local dead, attempts = KEYS[2], KEYS[3]
if ARGV[1] == 'id' then
  if redis.call('ZREM', dead, ARGV[2]) == 0 then return 0 end
  delete_jobs(attempts, nil, { ARGV[2] })
  return 1
end
local ids = redis.call('ZRANGEBYSCORE', dead, '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
if #ids > 0 then
  delete_jobs(attempts, nil, ids)
  each_chunk('ZREM', dead, ids)
end
return #ids
