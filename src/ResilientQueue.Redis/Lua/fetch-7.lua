--[[
  fetch-7: leases up to n jobs: promotes due delayed jobs (at most 1000), then pops the highest priorities first,
  FIFO within one; each job's attempts += 1 and it gets a fencing token and a lease deadline. A token is
  `<fence>:<now ms>`: unique by the fence counter, and it tells when the lease was granted (ages-5 reads that).

  KEYS[1] meta      hash    {rq:q}:meta       paused flag, fence counter
  KEYS[2] ready     list    {rq:q}:ready      priority-0 ids (RPOP = head)
  KEYS[3] prio      zset    {rq:q}:prio       priority 1..9 ids
  KEYS[4] delayed   zset    {rq:q}:delayed    ids by due time (ms)
  KEYS[5] active    zset    {rq:q}:active     ids by lease deadline (ms)
  KEYS[6] lease     hash    {rq:q}:lease      id -> token
  KEYS[7] attempts  hash    {rq:q}:attempts   id -> attempts
  derived           string  {rq:q}:job:<id>;  hash {rq:q}:x:<id> (read when flagged)

  ARGV[1] now (ms)   ARGV[2] n (1..1000)   ARGV[3] lease deadline (ms)

  Returns {n, k, then the n leased jobs packed into k values by pack_lease (each job its lease_header "<attempts> <t>
          <token> <id>", t empty here, and its envelope), then for each job that has an x hash: its index (1..n) and
          its HGETALL}. Empty when the queue is paused or nothing is ready.
]]
--!include _common.lua
local meta, ready, prio, delayed, active, lease, attempts = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local deadline = ARGV[3]

local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', fmt(now), 'LIMIT', 0, 1000)
if #due > 0 then
  local zero = {}
  for _, id in ipairs(due) do
    local pr = header(id) or 0
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

local keys = {}
for i, id in ipairs(ids) do keys[i] = jobkey(id) end
local envelopes = redis.call('MGET', unpack(keys))
local counts = redis.call('HMGET', attempts, unpack(ids))
local fence = redis.call('HINCRBY', meta, 'fence', #ids) - #ids
local pack, extras = new_pack(), {}
local tokens, counted, leased = { SENTINEL_FIELD, SENTINEL_VALUE }, { SENTINEL_FIELD, SENTINEL_VALUE }, {}
local taken = 0
local granted = ':' .. fmt(now)
for i, id in ipairs(ids) do
  if envelopes[i] then
    taken = taken + 1
    local a, hasx = parse_attempts(counts[i])
    a = a + 1
    local token = fmt(fence + i) .. granted
    tokens[#tokens + 1] = id; tokens[#tokens + 1] = token
    counted[#counted + 1] = id; counted[#counted + 1] = hasx and (a .. '+') or a
    leased[#leased + 1] = deadline; leased[#leased + 1] = id
    pack_lease(pack, a, '', token, id, envelopes[i])
    if hasx then extras[#extras + 1] = taken; extras[#extras + 1] = redis.call('HGETALL', xkey(id)) end
  end
end
if taken == 0 then return {} end
local pieces = packed(pack)
local out = { taken, #pieces }
for _, p in ipairs(pieces) do out[#out + 1] = p end
for _, e in ipairs(extras) do out[#out + 1] = e end
redis.call('HSET', lease, unpack(tokens))
redis.call('HSET', attempts, unpack(counted))
redis.call('ZADD', active, unpack(leased))
return out
