--[[
  enqueue-5: adds jobs (one or a batch) atomically: idempotency keys checked, capacity checked, then all added
  or none.

  KEYS[1] meta      hash    {rq:q}:meta       depth counter (capacity check), seq (priority FIFO)
  KEYS[2] ready     list    {rq:q}:ready      priority-0 job ids, LPUSH = tail
  KEYS[3] prio      zset    {rq:q}:prio       priority 1..9 job ids
  KEYS[4] delayed   zset    {rq:q}:delayed    delayed job ids by due time (ms)
  KEYS[5] attempts  hash    {rq:q}:attempts   id -> attempts ("0+" for a delayed job: its x hash holds v)
  derived           string  {rq:q}:job:<id>   the envelope;  hash {rq:q}:x:<id> (v, for a delayed job)
                    string  {rq:q}:idem:<key> "<job id>|<expires ms>": the key is known while expires > now (the
                            caller's clock); the server TTL (window + 60 s) only collects it

  ARGV[1] now (ms)   ARGV[2] capacity   ARGV[3] idempotency window (ms)   ARGV[4] notify channel
  ARGV[5] n, the number of jobs; then 5 values per job: id, envelope, priority (0..9), delay (ms),
          idempotency key ("" = none)

  Returns {1, r1 .. rn}: ri is "" when job i was added, else the id of the job that holds its idempotency key.
          {-1, depth, new jobs}: the new jobs do not fit under the capacity; nothing was changed.
]]
--!include _common.lua
local meta, ready, prio, delayed, attempts = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local channel = ARGV[4]
local n = tonumber(ARGV[5])
local FIELDS = 5

-- Pass 1: duplicates (known keys, and keys repeated inside the batch). Nothing is written yet.
local out, fresh = find_duplicates(n, FIELDS, 5, now)
if fresh == 0 then return out end

local depth = tonumber(redis.call('HGET', meta, 'depth') or '0')
if depth + fresh > capacity then return { -1, depth, fresh } end

-- Pass 2: add the new jobs.
local envelopes, zero, prios, due, delayed_ids = {}, {}, {}, {}, { SENTINEL_FIELD, SENTINEL_VALUE }
for i = 1, n do
  if out[i + 1] == '' then
    local base = 5 + (i - 1) * FIELDS
    local id, pr, delay, key = ARGV[base + 1], tonumber(ARGV[base + 3]), tonumber(ARGV[base + 4]), ARGV[base + 5]
    envelopes[#envelopes + 1] = jobkey(id)
    envelopes[#envelopes + 1] = ARGV[base + 2]
    hold_key(key, id, now, window)
    if delay > 0 then
      due[#due + 1] = fmt(now + delay); due[#due + 1] = id
      redis.call('HSET', xkey(id), 'v', fmt(now + delay))
      delayed_ids[#delayed_ids + 1] = id; delayed_ids[#delayed_ids + 1] = '0+'
    elseif pr == 0 then
      zero[#zero + 1] = id
    else
      prios[#prios + 1] = { id, pr }
    end
  end
end
each_chunk('MSET', nil, envelopes)

local wake = false
if #zero > 0 then
  -- The list was empty before this push exactly when its new length is the first chunk's size: only then can
  -- consumers be idle, so only then is a wake-up published.
  local length = each_chunk('LPUSH', ready, zero)
  if length == math.min(#zero, 1000) then wake = true end
end
if #prios > 0 then
  local seq = redis.call('HINCRBY', meta, 'seq', #prios) - #prios
  local members = {}
  for j, p in ipairs(prios) do
    members[#members + 1] = fmt((9 - p[2]) * PRIO_BAND + PRIO_OFFSET + seq + j)
    members[#members + 1] = p[1]
  end
  each_chunk('ZADD', prio, members)
  wake = true
end
if #due > 0 then
  each_chunk('ZADD', delayed, due)
  each_chunk('HSET', attempts, delayed_ids)
  wake = true
end
redis.call('HINCRBY', meta, 'depth', fresh)
if wake then redis.call('PUBLISH', channel, '1') end
return out
