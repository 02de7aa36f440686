--[[
  purge-2: deletes dead-letter entries: one by id, or up to `limit` of those dead at or before a time.

  KEYS[1] meta   hash   {rq:q}:meta   (prefix only)
  KEYS[2] dead   zset   {rq:q}:dead
  derived        hash   {rq:q}:job:<id>

  ARGV[1] mode: "id" or "upto"
          id:   ARGV[2] the job id
          upto: ARGV[2] the time (ms, inclusive) or "+inf"   ARGV[3] limit (1..1000)

  Returns the number of entries deleted.
]]
--!include _common.lua
local dead = KEYS[2]
local ids
if ARGV[1] == 'id' then
  if redis.call('ZREM', dead, ARGV[2]) == 0 then return 0 end
  redis.call('DEL', jobkey(ARGV[2]))
  return 1
end
ids = redis.call('ZRANGEBYSCORE', dead, '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('DEL', jobkey(id)) end
if #ids > 0 then each_chunk('ZREM', dead, ids) end
return #ids
