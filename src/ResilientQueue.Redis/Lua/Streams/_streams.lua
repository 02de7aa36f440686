-- _streams.lua: the stream backend's shared steps, included after _common.lua and _transitions.lua.
--
-- One stream per queue, read by consumer groups; every key shares the queue's hash tag. Queue-level keys:
--   {rq:q}:meta        hash    kind = stream; added (entries added to the stream, in all)
--   {rq:q}:stream      stream  one entry per job: j job id, t when it entered the stream (its available-at, ms, the
--                              caller's clock), e the envelope (RedisJobCodec). Deleted only once every group of
--                              the stream is past it (xtrim-4), never by MAXLEN
--   {rq:q}:entries     hash    job id -> stream entry id, while the entry is in the stream
--   {rq:q}:delayed     zset    delayed enqueues by due time (ms): added to the stream (so to every group) when due
--   {rq:q}:job:<id>    string  the envelope of a delayed enqueue, until it is added to the stream
--   {rq:q}:groups      hash    group -> its start ('0' retained history, '$' new entries) for the groups created here
--   {rq:q}:idem:<key>  string  an idempotency key (as the list backend's)
-- Per group g, prefix {rq:q}:g:<g>: (what _common.lua derives from a group script's KEYS[1], {rq:q}:g:<g>:meta):
--   meta       hash    read (entries delivered to the group, in all: undelivered = added - read; its presence
--                      says the group was created), fence, paused, dtrim, cseq
--   ready      list    jobs that came back (released, aborted, reaped, retried, requeued): RPOP = head; they are
--                      served before entries the group was not given yet
--   delayed    zset    retries by due time;  active zset, lease hash, started hash: as the list backend's
--   attempts   hash    id -> attempts ("n", "n+" when x:<id> exists), for every job the group tracks: active,
--                      ready again, delayed, dead or completed. A job the group was not given yet is only in the stream
--   dead, completed    zsets, as the list backend's
--   x:<id>     hash    the list backend's fields, and d = 1 when the group holds its own copy of the envelope
--   job:<id>   string  that copy: a dead-lettered or retained completed job, whose entry the group acknowledged
--                      (XACK), so that the stream can be trimmed past it
--   turn:<name>        string, as the list backend's
-- A job the group holds without its own copy (active, ready again, delayed) stays in the group's pending entries list
-- (PEL): the trim never passes a pending entry.
local qprefix = string.sub(prefix, 1, (string.find(prefix, '}:', 1, true)) + 1)
local function qjobkey(id) return qprefix .. 'job:' .. id end
local function gkey(group, suffix) return qprefix .. 'g:' .. group .. ':' .. suffix end

-- The value of a field in a stream entry's {f1, v1, f2, v2, ...}.
local function field(fields, name)
  for i = 1, #fields - 1, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return nil
end

-- The j, t and e values of a stream entry's fields: read by position when the entry has them in the order the
-- library adds them (add_entries), by name otherwise.
local function entry_fields(fields)
  if fields[1] == 'j' and fields[3] == 't' and fields[5] == 'e' then return fields[2], fields[4], fields[6] end
  return field(fields, 'j'), field(fields, 't'), field(fields, 'e')
end

-- Stream ids "<ms>-<seq>", compared as numbers.
local function split_id(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local function id_less(a, b)
  local am, as = split_id(a)
  local bm, bs = split_id(b)
  return am < bm or (am == bm and as < bs)
end
local function id_next(id)
  local ms, seq = split_id(id)
  return fmt(ms) .. '-' .. fmt(seq + 1)
end

-- The fields of one stream entry, or nil when it is gone.
local function read_entry(stream, eid)
  local r = redis.call('XRANGE', stream, eid, eid)
  if #r == 0 then return nil end
  return r[1][2]
end

-- Whether a reply of redis.pcall is the error NOGROUP (the group, or the stream, is gone).
local function is_nogroup(r)
  return type(r) == 'table' and r.err ~= nil and string.sub(r.err, 1, 7) == 'NOGROUP'
end

-- Re-raises an error reply of redis.pcall; returns the reply otherwise.
local function check(r)
  if type(r) == 'table' and r.err then error(r.err) end
  return r
end

-- How many entries of the stream a group was not given yet. read is the group's meta field; nil for a group not
-- created yet, which will start with every retained entry (start '0') or with none ('$').
local function undelivered_of(stream, added, read, start)
  if read then return added - tonumber(read) end
  if start == '0' then return redis.call('XLEN', stream) end
  return 0
end

-- A group's depth: what it has not finished (not given yet, ready again, delayed, active), and the queue's delayed
-- enqueues, which reach it when due. Also returns the undelivered count alone.
local function group_depth(stream, qdelayed, group, added, read, start)
  local undelivered = undelivered_of(stream, added, read, start)
  return undelivered + redis.call('ZCARD', qdelayed) + redis.call('LLEN', gkey(group, 'ready'))
    + redis.call('ZCARD', gkey(group, 'delayed')) + redis.call('ZCARD', gkey(group, 'active')), undelivered
end

-- The queue's depth for the capacity check: the deepest group's; with no group yet, every entry waiting in the
-- stream and every delayed enqueue. Also returns whether some group (or none) may have idle consumers.
local function queue_depth(qmeta, stream, qdelayed, groups)
  local names = redis.call('HKEYS', groups)
  if #names == 0 then return redis.call('XLEN', stream) + redis.call('ZCARD', qdelayed), true end
  local added = tonumber(redis.call('HGET', qmeta, 'added') or '0')
  local depth, idle = 0, false
  for _, g in ipairs(names) do
    local d, undelivered = group_depth(stream, qdelayed, g, added, redis.call('HGET', gkey(g, 'meta'), 'read'), '0')
    if d > depth then depth = d end
    if undelivered == 0 then idle = true end
  end
  return depth, idle
end

-- Creates a group on the stream (or adopts one that exists: BUSYGROUP) and records it: read counts every entry the
-- group will be given as not given yet (from '0': every retained entry; an adopted group: the same, which can only
-- overstate its depth).
local function create_group(qmeta, stream, groups, group, start)
  local r = redis.pcall('XGROUP', 'CREATE', stream, group, start, 'MKSTREAM')
  local adopted = type(r) == 'table' and r.err ~= nil
  if adopted and string.sub(r.err, 1, 9) ~= 'BUSYGROUP' then error(r.err) end
  local added = tonumber(redis.call('HGET', qmeta, 'added') or '0')
  local read = added - redis.call('XLEN', stream)
  if start == '$' and not adopted then read = added end
  redis.call('HSET', qmeta, 'kind', 'stream')
  redis.call('HSET', gkey(group, 'meta'), 'read', fmt(read))
  redis.call('HSET', gkey(group, 'lease'), SENTINEL_FIELD, SENTINEL_VALUE)
  redis.call('HSET', gkey(group, 'attempts'), SENTINEL_FIELD, SENTINEL_VALUE)
  redis.call('HSET', groups, group, start)
end

-- Adds jobs to the stream, in order ({id, envelope, t} each): one XADD per job, the index in one HSET. Returns how
-- many were added.
local function add_entries(qmeta, stream, entries, jobs)
  if #jobs == 0 then return 0 end
  local index = { SENTINEL_FIELD, SENTINEL_VALUE }
  for _, job in ipairs(jobs) do
    local eid = redis.call('XADD', stream, '*', 'j', job[1], 't', job[3], 'e', job[2])
    index[#index + 1] = job[1]; index[#index + 1] = eid
  end
  each_chunk('HSET', entries, index)
  redis.call('HINCRBY', qmeta, 'added', #jobs)
  return #jobs
end

-- The queue's delayed enqueues that fell due join the stream in due order (at most 1000 per call), so every group
-- gets them. Returns how many.
local function promote_due(qmeta, stream, entries, qdelayed, now)
  local due = redis.call('ZRANGEBYSCORE', qdelayed, '-inf', fmt(now), 'WITHSCORES', 'LIMIT', 0, 1000)
  if #due == 0 then return 0 end
  local jobs, keys, ids = {}, {}, {}
  for i = 1, #due, 2 do
    local id = due[i]
    local envelope = redis.call('GET', qjobkey(id))
    if envelope then jobs[#jobs + 1] = { id, envelope, due[i + 1] } end
    keys[#keys + 1] = qjobkey(id); ids[#ids + 1] = id
  end
  add_entries(qmeta, stream, entries, jobs)
  each_chunk('DEL', nil, keys)
  each_chunk('ZREM', qdelayed, ids)
  return #jobs
end

-- Whether the group holds its own copy of the job's envelope (x field d).
local function detached(hasx, id)
  return hasx and redis.call('HGET', xkey(id), 'd') == '1'
end

-- The job's envelope: the group's copy, or its stream entry's; nil when neither exists (the entry was deleted outside
-- the library). Also returns the entry's t ('' for a copy).
local function envelope_of(stream, entries, id, hasx)
  if detached(hasx, id) then return redis.call('GET', jobkey(id)), '' end
  local eid = redis.call('HGET', entries, id)
  local fields = eid and read_entry(stream, eid)
  if not fields then return nil, '' end
  return field(fields, 'e'), field(fields, 't')
end

-- Gives the group its own copy of the job's envelope and acknowledges its stream entry (the job is dead-lettered or
-- kept as completed: the stream may be trimmed past it). Returns false when the envelope is gone.
local function detach(stream, entries, attempts, group, id)
  local _, hasx = get_attempts(attempts, id)
  if detached(hasx, id) then return true end
  local eid = redis.call('HGET', entries, id)
  local fields = eid and read_entry(stream, eid)
  if not fields then return false end
  redis.call('SET', jobkey(id), field(fields, 'e'))
  set_x(attempts, id, 'd', '1')
  redis.pcall('XACK', stream, group, eid)
  return true
end

-- Acknowledges the stream entries of jobs (ids) for the group; a group that is gone has nothing to acknowledge.
local function ack_entries(stream, entries, group, ids)
  if #ids == 0 then return end
  local _, eids = each_chunk('HMGET', entries, ids)
  local acks = {}
  for i = 1, #ids do if eids[i] then acks[#acks + 1] = eids[i] end end
  if #acks > 0 then redis.pcall('XACK', stream, group, unpack(acks)) end
end

-- Forgets jobs the group is done with: attempts, and x hash and own copy for those that have them (counts[i] is the
-- job's attempts value, "n+" when x exists).
local function forget(attempts, ids, counts)
  local keys = {}
  for i, id in ipairs(ids) do
    local _, hasx = parse_attempts(counts[i])
    if hasx then keys[#keys + 1] = xkey(id); keys[#keys + 1] = jobkey(id) end
  end
  if #keys > 0 then each_chunk('DEL', nil, keys) end
  each_chunk('HDEL', attempts, ids)
end

-- Completes jobs of the group whose lease was found current (ack, complete): their leases end, and each is forgotten
-- (its stream entry acknowledged) or, with a completed retention, kept among the newest `retention` completed with
-- the group's own copy of its envelope (its entry acknowledged too, so the stream can be trimmed past it).
local function complete_group_jobs(gmeta, stream, entries, active, completed, lease, attempts, group, done, now, retention)
  leave_active(active, lease, done)
  if retention == 0 then
    local counts = redis.call('HMGET', attempts, unpack(done))
    ack_entries(stream, entries, group, done)
    forget(attempts, done, counts)
    return
  end
  local seq = redis.call('HINCRBY', gmeta, 'cseq', #done) - #done
  local members, kept = {}, {}
  for _, id in ipairs(done) do
    if detach(stream, entries, attempts, group, id) then
      set_x(attempts, id, 'ct', now)
      kept[#kept + 1] = id
      members[#members + 1] = fmt(seq + #kept); members[#members + 1] = id
    else
      forget(attempts, { id }, { redis.call('HGET', attempts, id) })
    end
  end
  if #members > 0 then each_chunk('ZADD', completed, members) end
  local over = redis.call('ZCARD', completed) - retention
  if over > 0 then
    local old = redis.call('ZRANGE', completed, 0, math.min(over, 1000) - 1)
    forget(attempts, old, redis.call('HMGET', attempts, unpack(old)))
    each_chunk('ZREM', completed, old)
  end
end
