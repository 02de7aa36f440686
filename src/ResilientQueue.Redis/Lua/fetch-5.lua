--[[
  fetch-5: leases up to n jobs: promotes due delayed jobs (at most 1000), then pops the highest priorities first,
  FIFO within one; each job's attempts += 1 and it gets a fencing token and a lease deadline.

  KEYS[1] meta     hash    {rq:q}:meta      paused flag, fence counter
  KEYS[2] ready    list    {rq:q}:ready     priority-0 ids (RPOP = head)
  KEYS[3] prio     zset    {rq:q}:prio      priority 1..9 ids
  KEYS[4] delayed  zset    {rq:q}:delayed   ids by due time (ms)
  KEYS[5] active   zset    {rq:q}:active    ids by lease deadline (ms)
  derived          hash    {rq:q}:job:<id>

  ARGV[1] now (ms)   ARGV[2] n (1..1000)   ARGV[3] lease deadline (ms)

  Returns {id1, token1, fields1, id2, token2, fields2, ...}: fields is the job hash as HGETALL gives it, after the
          update (attempts, token, deadline). Empty when the queue is paused or nothing is ready.
]]
--!include _common.lua
local meta, ready, prio, delayed, active = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local deadline = ARGV[3]

local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', fmt(now), 'LIMIT', 0, 1000)
if #due > 0 then
  local zero = {}
  for _, id in ipairs(due) do
    local pr = tonumber(redis.call('HGET', jobkey(id), 'pr') or '0')
    if pr == 0 then zero[#zero + 1] = id else push_ready(meta, ready, prio, id, pr, false) end
  end
  if #zero > 0 then each_chunk('LPUSH', ready, zero) end
  each_chunk('ZREM', delayed, due)
end

if redis.call('HGET', meta, 'paused') == '1' then return {} end

local ids = {}
local popped = redis.call('ZPOPMIN', prio, n)
for i = 1, #popped, 2 do ids[#ids + 1] = popped[i] end
if #ids < n then
  local rest = redis.call('RPOP', ready, n - #ids)
  if rest then for _, id in ipairs(rest) do ids[#ids + 1] = id end end
end
if #ids == 0 then return {} end

local fence = redis.call('HINCRBY', meta, 'fence', #ids) - #ids
local out, leased = {}, {}
for i, id in ipairs(ids) do
  local key = jobkey(id)
  local fields = redis.call('HGETALL', key)
  if #fields > 0 then
    local token = fmt(fence + i)
    local attempts = 1
    for j = 1, #fields, 2 do
      if fields[j] == 'a' then
        attempts = tonumber(fields[j + 1]) + 1
        fields[j + 1] = tostring(attempts)
      end
    end
    redis.call('HSET', key, 'a', attempts, 't', token, 'l', deadline)
    fields[#fields + 1] = 't'; fields[#fields + 1] = token
    fields[#fields + 1] = 'l'; fields[#fields + 1] = deadline
    out[#out + 1] = id; out[#out + 1] = token; out[#out + 1] = fields
    leased[#leased + 1] = deadline; leased[#leased + 1] = id
  end
end
if #leased > 0 then each_chunk('ZADD', active, leased) end
return out
