-- _transitions.lua: the storage steps of a decided transition, shared by every script that moves a job (transition,
-- requeue, ack). Included after _common.lua. What a job does next is decided in C#, once, by the core's
-- JobTransitions; the scripts receive the decision and only store it. The codes below are the values of the core's
-- JobDestination and AttemptChange enums (a test checks they match).
local DEST_READY, DEST_DELAYED, DEST_DEAD, DEST_REMOVED = 0, 1, 2, 3
local ATTEMPTS_KEEP, ATTEMPTS_REFUND, ATTEMPTS_RESET, ATTEMPTS_REFUND_UNSTARTED = 0, 1, 2, 3

-- The leases given as n (id, token) pairs from ARGV[first] on: their ids, and per lease whether its token is the job's.
local function current_leases(lease, first, n)
  local ids = {}
  for i = 1, n do ids[i] = ARGV[first + 2 * (i - 1)] end
  local _, tokens = each_chunk('HMGET', lease, ids)
  local current = {}
  for i = 1, n do current[i] = tokens[i] ~= false and tokens[i] == ARGV[first + 1 + 2 * (i - 1)] end
  return ids, current
end

-- The same, split for the scripts that act on the current ones (ack, complete): a 1/0 result per pair, in order, and
-- the ids of the current ones.
local function split_current(lease, first, n)
  local ids, current = current_leases(lease, first, n)
  local results, done = {}, {}
  for i = 1, n do
    results[i] = current[i] and 1 or 0
    if current[i] then done[#done + 1] = ids[i] end
  end
  return ids, current, results, done
end

-- Ends the leases of jobs: they leave the active set and their tokens (and started marks) are removed.
local function leave_active(active, lease, ids)
  each_chunk('HDEL', lease, ids)
  each_chunk('HDEL', startedkey(), ids)
  each_chunk('ZREM', active, ids)
end

-- One decided transition of transition-8 or xtransition-9: the 12 ARGV values from ARGV[base + 1], as the C#
-- ScriptArgs.Transitions writes them: the lease (id, token, attempt, expired-by bound, "" for none) and the core's
-- decision (destination, at head, available at, attempt change, failure and its category, dead reason and category).
local function read_decision(base)
  return {
    id = ARGV[base + 1], token = ARGV[base + 2], attempt = tonumber(ARGV[base + 3]), expired_by = ARGV[base + 4],
    dest = tonumber(ARGV[base + 5]), head = ARGV[base + 6] == '1', at = tonumber(ARGV[base + 7]),
    change = tonumber(ARGV[base + 8]), err = ARGV[base + 9], cat = tonumber(ARGV[base + 10]),
    reason = ARGV[base + 11], dcat = ARGV[base + 12],
  }
end

-- The lease a decision is for: nil when its token is not current (the lease was lost); else the job's attempts and
-- whether the decision applies (it was made at this attempt and, for a reap, the lease was not renewed past the bound).
local function decided_lease(attempts, active, lease, d)
  if redis.call('HGET', lease, d.id) ~= d.token then return nil, false end
  local a = get_attempts(attempts, d.id)
  local deadline = tonumber(redis.call('ZSCORE', active, d.id) or '0')
  return a, a == d.attempt and (d.expired_by == '' or deadline <= tonumber(d.expired_by))
end

-- The first step of applying a decision at attempts a: its failure (if any) joins the job's history, the lease ends.
local function end_decided_lease(attempts, active, lease, d, now, a)
  if d.err ~= '' then record_failure(attempts, d.id, now, a, d.cat, d.err) end
  leave_active(active, lease, { d.id })
end

-- Completes jobs whose lease was found current (ack, complete): they leave the active set, the depth falls, and each is
-- deleted or, with a completed retention, kept (x field ct = now) among the newest `retention` completed.
local function complete_jobs(meta, active, completed, lease, attempts, done, now, retention)
  leave_active(active, lease, done)
  redis.call('HINCRBY', meta, 'depth', -#done)
  if retention == 0 then
    delete_jobs(attempts, nil, done)
    return
  end
  local seq = redis.call('HINCRBY', meta, 'cseq', #done) - #done
  local members = {}
  for j, id in ipairs(done) do
    set_x(attempts, id, 'ct', now)
    members[#members + 1] = fmt(seq + j); members[#members + 1] = id
  end
  each_chunk('ZADD', completed, members)
  local over = redis.call('ZCARD', completed) - retention
  if over > 0 then
    local old = redis.call('ZRANGE', completed, 0, math.min(over, 1000) - 1)
    delete_jobs(attempts, nil, old)
    each_chunk('ZREM', completed, old)
  end
end

-- The attempt count after a change (the job's x hash is written next, so the count carries its '+' flag).
-- A refund of a lease that ran out before its handler started also counts, in the x hash, as one such refund.
local function changed_attempts(a, change, id)
  if change == ATTEMPTS_REFUND then return a - 1 elseif change == ATTEMPTS_RESET then return 0 end
  if change == ATTEMPTS_REFUND_UNSTARTED then
    redis.call('HINCRBY', xkey(id), 'ur', 1)
    return a - 1
  end
  return a
end

-- Moves a job that is in no structure now (it left the active set or the dead-letter set) to its destination.
-- Returns two flags: whether consumers may have work (publish a wake-up) and whether it was dead-lettered (trim).
local function move(meta, ready, prio, delayed, dead, attempts, id, pr, dest, head, at, a, now, reason, cat)
  if dest == DEST_REMOVED then
    delete_jobs(attempts, nil, { id })
    redis.call('HINCRBY', meta, 'depth', -1)
    return false, false
  end
  redis.call('HSET', attempts, id, attempts_value(a, true))
  if dest == DEST_READY then
    redis.call('HSET', xkey(id), 'v', fmt(at))
    push_ready(meta, ready, prio, id, pr, head)
    return true, false
  elseif dest == DEST_DELAYED then
    redis.call('HSET', xkey(id), 'v', fmt(at))
    redis.call('ZADD', delayed, fmt(at), id)
    return true, false
  end
  redis.call('HSET', xkey(id), 'dt', fmt(now), 'dr', reason, 'dc', cat)
  redis.call('ZADD', dead, fmt(now), id)
  redis.call('HINCRBY', meta, 'depth', -1)
  return false, true
end
