--[[
  xclear-5: one step of clearing a stream queue: removes up to n records, every group's first (ready again, delayed,
  active, dead, completed, with their x hashes, copies, attempts, leases and marks), then the delayed enqueues, then
  the stream's entries; when nothing is left, deletes the stream (and so its groups), the queue's structures and
  every group's. A job counts once: a group's record counts only when its stream entry is gone already. Idempotency
  keys and turns (strings with a TTL) are removed by the caller.

  KEYS[1] meta      hash    {rq:q}:meta
  KEYS[2] stream    stream  {rq:q}:stream
  KEYS[3] entries   hash    {rq:q}:entries
  KEYS[4] delayed   zset    {rq:q}:delayed
  KEYS[5] groups    hash    {rq:q}:groups
  derived           string {rq:q}:job:<id>;  of each group: hash {rq:q}:g:<g>:meta and every other key {rq:q}:g:<g>:...

  ARGV[1] n (the most records this step removes)

  Returns {jobs removed, done (1 when the queue was empty and its structures are gone, else 0)}.
]]
--!include _common.lua
--!include _transitions.lua
--!include _streams.lua
local qmeta, stream, entries, qdelayed, groups = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local n = tonumber(ARGV[1])
local left, jobs = n, 0
local names = redis.call('HKEYS', groups)
for _, g in ipairs(names) do
  for _, structure in ipairs({ 'ready', 'delayed', 'active', 'dead', 'completed' }) do
    if left > 0 then
      local key = gkey(g, structure)
      local ids
      if structure == 'ready' then
        ids = redis.call('RPOP', key, left) or {}
      else
        ids = redis.call('ZRANGE', key, 0, left - 1)
        if #ids > 0 then each_chunk('ZREM', key, ids) end
      end
      if #ids > 0 then
        local keys = {}
        for _, id in ipairs(ids) do
          if redis.call('HEXISTS', entries, id) == 0 then jobs = jobs + 1 end
          keys[#keys + 1] = gkey(g, 'x:' .. id); keys[#keys + 1] = gkey(g, 'job:' .. id)
        end
        each_chunk('DEL', nil, keys)
        each_chunk('HDEL', gkey(g, 'attempts'), ids)
        each_chunk('HDEL', gkey(g, 'lease'), ids)
        each_chunk('HDEL', gkey(g, 'started'), ids)
        left = left - #ids
      end
    end
  end
end
if left < n then return { jobs, 0 } end

local due = redis.call('ZRANGE', qdelayed, 0, left - 1)
if #due > 0 then
  local keys = {}
  for _, id in ipairs(due) do keys[#keys + 1] = qjobkey(id) end
  each_chunk('DEL', nil, keys)
  each_chunk('ZREM', qdelayed, due)
  return { #due, 0 }
end

local batch = redis.call('XRANGE', stream, '-', '+', 'COUNT', left)
if #batch > 0 then
  local eids, ids = {}, {}
  for _, entry in ipairs(batch) do
    eids[#eids + 1] = entry[1]
    local id = field(entry[2], 'j')
    if id then ids[#ids + 1] = id end
  end
  redis.call('XDEL', stream, unpack(eids))
  if #ids > 0 then each_chunk('HDEL', entries, ids) end
  return { #eids, 0 }
end

redis.call('DEL', stream, entries, qdelayed, groups, qmeta)
for _, g in ipairs(names) do
  redis.call('DEL', gkey(g, 'meta'), gkey(g, 'ready'), gkey(g, 'delayed'), gkey(g, 'active'), gkey(g, 'dead'),
    gkey(g, 'completed'), gkey(g, 'lease'), gkey(g, 'attempts'), gkey(g, 'started'))
end
return { 0, 1 }
