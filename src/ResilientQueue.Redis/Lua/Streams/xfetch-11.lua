--[[
  xfetch-11: leases up to n jobs to one consumer of one group: first the jobs that came back to the group (its ready
  list, head first; their pending entries are claimed for this consumer with XCLAIM ... FORCE), then entries the
  group was not given yet (XREADGROUP ... COUNT, never BLOCK). Before that: creates the group when it was never
  created (or recreates it when the server lost it: NOGROUP), adds the queue's delayed enqueues that fell due to the
  stream, and makes the group's retries that fell due ready. Nothing is leased while the group is paused. Each lease
  gets a new fencing token, `<fence>:<now ms>` (unique by the group's fence counter; xages-6 reads when the lease
  was granted from it), and spends one attempt; its deadline is the caller's.

  KEYS[1] gmeta     hash    {rq:q}:g:<g>:meta      read, fence, paused
  KEYS[2] meta      hash    {rq:q}:meta            added
  KEYS[3] stream    stream  {rq:q}:stream
  KEYS[4] entries   hash    {rq:q}:entries         job id -> entry id
  KEYS[5] qdelayed  zset    {rq:q}:delayed         delayed enqueues by due time (ms)
  KEYS[6] ready     list    {rq:q}:g:<g>:ready     jobs that came back (RPOP = head)
  KEYS[7] delayed   zset    {rq:q}:g:<g>:delayed   retries by due time (ms)
  KEYS[8] active    zset    {rq:q}:g:<g>:active    ids by lease deadline (ms)
  KEYS[9] lease     hash    {rq:q}:g:<g>:lease     id -> token
  KEYS[10] attempts hash    {rq:q}:g:<g>:attempts  id -> attempts
  KEYS[11] groups   hash    {rq:q}:groups
  derived           string  {rq:q}:job:<id> (a delayed enqueue's envelope, moved to the stream);
                    hash {rq:q}:g:<g>:x:<id>;  string {rq:q}:g:<g>:job:<id> (the group's own copy)

  ARGV[1] now (ms)   ARGV[2] n (1..1000)   ARGV[3] lease deadline (ms)   ARGV[4] group   ARGV[5] consumer
  ARGV[6] where a new group starts: "0" (every retained entry) or "$" (new entries only)

  Returns {n, created, lost, k, then the n leased jobs packed into k values by pack_lease (each job its
          lease_header "<attempts> <t> <token> <id>", t: when it entered the stream, ms, or empty; and its envelope),
          then for each job that has an x hash: its index (1..n) and its HGETALL, then the ids of the lost jobs}.
          created: 0 the group existed, 1 it was created now, 2 it was lost (NOGROUP) and created again
          from its first retained entry. lost: how many jobs came back whose stream entry had been deleted outside
          the library (their records are dropped).
]]
--!include _common.lua
--!include _transitions.lua
--!include _streams.lua
local gmeta, qmeta, stream, entries, qdelayed, ready, delayed, active, lease, attempts, groups =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11]
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local deadline = ARGV[3]
local group, consumer, start = ARGV[4], ARGV[5], ARGV[6]

local created = 0
local m = redis.call('HMGET', gmeta, 'read', 'paused')
if not m[1] then
  create_group(qmeta, stream, groups, group, start)
  created = 1
end
local function recreate()
  -- The server lost the group (deleted by hand, the stream deleted, a flush or restart without persistence): start it
  -- again from its first retained entry, so nothing it had not finished is lost (some jobs may run again).
  create_group(qmeta, stream, groups, group, '0')
  created = 2
end

promote_due(qmeta, stream, entries, qdelayed, now)
local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', fmt(now), 'LIMIT', 0, 1000)
if #due > 0 then
  each_chunk('LPUSH', ready, due)
  each_chunk('ZREM', delayed, due)
end

if m[2] == '1' then return { 0, created, 0 } end

-- leased (jobs that came back): {id, envelope, attempts before this fetch, hasx, t}
local leased, lost = {}, {}

-- 1. Jobs that came back, head first.
local back = redis.call('RPOP', ready, n)
if back then
  local counts = redis.call('HMGET', attempts, unpack(back))
  local eids = redis.call('HMGET', entries, unpack(back))
  local claim, slots = {}, {}
  for i, id in ipairs(back) do
    local a, hasx = parse_attempts(counts[i])
    if detached(hasx, id) then
      local envelope = redis.call('GET', jobkey(id))
      if envelope then leased[#leased + 1] = { id, envelope, a, hasx, '' } else lost[#lost + 1] = id end
    elseif eids[i] then
      leased[#leased + 1] = false
      slots[#leased] = { id, eids[i], a, hasx }
      claim[#claim + 1] = eids[i]
    else
      lost[#lost + 1] = id
    end
  end
  if #claim > 0 then
    local args = { 'XCLAIM', stream, group, consumer, 0 }
    for _, eid in ipairs(claim) do args[#args + 1] = eid end
    args[#args + 1] = 'FORCE'
    local r = redis.pcall(unpack(args))
    if is_nogroup(r) then
      recreate()
      r = redis.pcall(unpack(args))
    end
    local got = {}
    for _, entry in ipairs(check(r)) do got[entry[1]] = entry[2] end
    for slot, s in pairs(slots) do
      local fields = got[s[2]]
      if fields then leased[slot] = { s[1], field(fields, 'e'), s[3], s[4], field(fields, 't') } else lost[#lost + 1] = s[1] end
    end
  end
  local kept = {}
  for _, l in ipairs(leased) do if l then kept[#kept + 1] = l end end
  leased = kept
end

-- 2. Entries the group was not given yet: kept in flat arrays (no table per job on this, the busy path); those it
-- tracks already (known) are not leased again.
local fresh, ids, envelopes, ts, known = 0, {}, {}, {}, {}
if #leased < n then
  local args = { 'XREADGROUP', 'GROUP', group, consumer, 'COUNT', n - #leased, 'STREAMS', stream, '>' }
  local r = redis.pcall(unpack(args))
  if is_nogroup(r) then
    recreate()
    r = redis.pcall(unpack(args))
  end
  r = check(r)
  if r then
    local list = r[1][2]
    redis.call('HINCRBY', gmeta, 'read', #list)
    for i, entry in ipairs(list) do ids[i], ts[i], envelopes[i] = entry_fields(entry[2]) end
    -- An entry given again (the group was created again, adopted, or moved back by hand with XGROUP SETID) may be a
    -- job the group tracks already: every delivered entry is looked up.
    if #list > 0 then known = redis.call('HMGET', attempts, unpack(ids)) end
    local done = {}
    for i, entry in ipairs(list) do
      if not known[i] then
        fresh = fresh + 1
      else
        -- Given again after the group was created again: the group tracks the job already. A job it holds (active,
        -- ready again, delayed) keeps this pending entry; one it finished or holds a copy of is acknowledged.
        local _, hasx = parse_attempts(known[i])
        if detached(hasx, ids[i]) then done[#done + 1] = entry[1] end
      end
    end
    if #done > 0 then redis.call('XACK', stream, group, unpack(done)) end
  end
end

if #lost > 0 then
  local counts = redis.call('HMGET', attempts, unpack(lost))
  leave_active(active, lease, lost)
  forget(attempts, lost, counts)
end
local total = #leased + fresh
if total == 0 then
  local out = { 0, created, #lost }
  for _, id in ipairs(lost) do out[#out + 1] = id end
  return out
end

local fence = redis.call('HINCRBY', gmeta, 'fence', total) - total
local granted = ':' .. fmt(now)
local pack, extras = new_pack(), {}
local tokens, counted, deadlines = { SENTINEL_FIELD, SENTINEL_VALUE }, { SENTINEL_FIELD, SENTINEL_VALUE }, {}
local function grant(i, id, a, hasx, envelope, t)
  local token = fmt(fence + i) .. granted
  local k = 2 * i
  tokens[k + 1] = id; tokens[k + 2] = token
  counted[k + 1] = id; counted[k + 2] = attempts_value(a, hasx)
  deadlines[k - 1] = deadline; deadlines[k] = id
  pack_lease(pack, a, t or '', token, id, envelope)
  if hasx then extras[#extras + 1] = i; extras[#extras + 1] = redis.call('HGETALL', xkey(id)) end
end
for i, l in ipairs(leased) do grant(i, l[1], l[3] + 1, l[4], l[2], l[5]) end
local k = #leased
for i = 1, #ids do
  if not known[i] then
    k = k + 1
    grant(k, ids[i], 1, false, envelopes[i], ts[i])
  end
end
local pieces = packed(pack)
local out = { total, created, #lost, #pieces }
for _, p in ipairs(pieces) do out[#out + 1] = p end
for _, e in ipairs(extras) do out[#out + 1] = e end
for _, id in ipairs(lost) do out[#out + 1] = id end
redis.call('HSET', lease, unpack(tokens))
redis.call('HSET', attempts, unpack(counted))
redis.call('ZADD', active, unpack(deadlines))
return out
