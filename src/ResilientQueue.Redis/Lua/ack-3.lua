--[[
  ack-3: completes leased jobs whose token is current: removes them, or keeps the newest `retention` completed.

  KEYS[1] meta       hash   {rq:q}:meta        depth counter, cseq (completion sequence)
  KEYS[2] active     zset   {rq:q}:active
  KEYS[3] completed  zset   {rq:q}:completed   ids by completion sequence (the time is the job's "ct" field)
  derived            hash   {rq:q}:job:<id>

  ARGV[1] now (ms)   ARGV[2] completed retention (0 = remove)   ARGV[3] n; then n pairs: id, token

  Returns {r1 .. rn}: 1 = completed, 0 = lease lost (nothing changed for that job).
]]
--!include _common.lua
local meta, active, completed = KEYS[1], KEYS[2], KEYS[3]
local now = ARGV[1]
local retention = tonumber(ARGV[2])
local n = tonumber(ARGV[3])

local results, done = {}, {}
for i = 1, n do
  local id, token = ARGV[2 + 2 * i], ARGV[3 + 2 * i]
  local key = jobkey(id)
  if redis.call('HGET', key, 't') == token then
    results[i] = 1
    done[#done + 1] = id
    if retention == 0 then
      redis.call('DEL', key)
    else
      redis.call('HDEL', key, 't', 'l')
      redis.call('HSET', key, 'ct', now)
    end
  else
    results[i] = 0
  end
end
if #done > 0 then
  each_chunk('ZREM', active, done)
  redis.call('HINCRBY', meta, 'depth', -#done)
  if retention > 0 then
    local seq = redis.call('HINCRBY', meta, 'cseq', #done) - #done
    local members = {}
    for j, id in ipairs(done) do members[#members + 1] = fmt(seq + j); members[#members + 1] = id end
    each_chunk('ZADD', completed, members)
    local over = redis.call('ZCARD', completed) - retention
    if over > 0 then
      local old = redis.call('ZRANGE', completed, 0, math.min(over, 1000) - 1)
      for _, id in ipairs(old) do redis.call('DEL', jobkey(id)) end
      each_chunk('ZREM', completed, old)
    end
  end
end
return results
