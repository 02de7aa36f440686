--[[
  xtransition-9: applies decided transitions (a failure, a release, a reap) to leased jobs of one group, each only
  while its lease is current: the token is the job's, the attempt count is the lease's, and, for a reap, the lease
  deadline has not been moved past the given time. Applying one records its failure (if any), ends the lease, changes
  the attempt count and moves the job: ready again (head or tail of the jobs that came back) and delayed keep its
  pending stream entry; dead-lettered, the group keeps its own copy of the envelope and acknowledges the entry;
  removed, the entry is acknowledged. The decisions come from the core's JobTransitions; nothing is decided here.

  KEYS[1] gmeta     hash    {rq:q}:g:<g>:meta       dtrim (dead-letter trims in all)
  KEYS[2] stream    stream  {rq:q}:stream
  KEYS[3] entries   hash    {rq:q}:entries          job id -> entry id
  KEYS[4] ready     list    {rq:q}:g:<g>:ready      jobs that came back (RPUSH = head, LPUSH = tail)
  KEYS[5] delayed   zset    {rq:q}:g:<g>:delayed    retries by due time (ms)
  KEYS[6] active    zset    {rq:q}:g:<g>:active     ids by lease deadline (ms)
  KEYS[7] dead      zset    {rq:q}:g:<g>:dead       ids by dead-letter time (ms)
  KEYS[8] lease     hash    {rq:q}:g:<g>:lease
  KEYS[9] attempts  hash    {rq:q}:g:<g>:attempts
  derived           hash {rq:q}:g:<g>:x:<id>;  string {rq:q}:g:<g>:job:<id>;  hash {rq:q}:g:<g>:started (marks removed)

  ARGV[1] now (ms)   ARGV[2] dead-letter max entries   ARGV[3] dead-letter max age (ms)   ARGV[4] notify channel
  ARGV[5] group   ARGV[6] n; then 12 values per transition: id, token, attempt (the lease's), expired-by (ms, or ""),
          destination (0 ready, 1 delayed, 2 dead, 3 removed), at head (1/0), available at (ms),
          attempt change (0 keep, 1 refund, 2 reset, 3 refund of a lease whose handler never started),
          failure ("TypeName: message", or ""), failure category, dead-letter reason, dead-letter category

  Publishes the ids of the jobs dead-lettered, removed or lost, space-separated, on the group's channel
  {rq:q}:g:<g>:done (producers waiting for their results stop waiting).
  Returns {{r1 .. rn}, {trimmed...}, {lost ids}}: ri = 1 applied, 0 not (lease lost, or renewed past expired-by;
          nothing changed for that job); trimmed lists dead-letter entries removed by the store's bounds as
          {id, "age"|"count", dead at (ms), dead reason}; lost lists jobs to be dead-lettered whose envelope was gone
          (their stream entry deleted outside the library), dropped.
]]
--!include _common.lua
--!include _transitions.lua
--!include _streams.lua
local gmeta, stream, entries, ready, delayed, active, dead, lease, attempts =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local now = tonumber(ARGV[1])
local max_entries = tonumber(ARGV[2])
local max_age = tonumber(ARGV[3])
local channel = ARGV[4]
local group = ARGV[5]
local n = tonumber(ARGV[6])
local FIELDS = 12

local results, trimmed, lost, ended = {}, {}, {}, {}
local wake, died = false, false
for i = 1, n do
  local t = read_decision(6 + (i - 1) * FIELDS)
  local id, dest, at = t.id, t.dest, t.at
  results[i] = 0
  local a, applies = decided_lease(attempts, active, lease, t)
  if applies then
    results[i] = 1
    end_decided_lease(attempts, active, lease, t, now, a)
    local changed = changed_attempts(a, t.change, id)
    if dest == DEST_REMOVED or dest == DEST_DEAD then ended[#ended + 1] = id end
    if dest == DEST_REMOVED then
      ack_entries(stream, entries, group, { id })
      forget(attempts, { id }, { redis.call('HGET', attempts, id) })
    elseif dest == DEST_DEAD and not detach(stream, entries, attempts, group, id) then
      forget(attempts, { id }, { redis.call('HGET', attempts, id) })
      lost[#lost + 1] = id
    else
      redis.call('HSET', attempts, id, attempts_value(changed, true))
      if dest == DEST_DEAD then
        redis.call('HSET', xkey(id), 'dt', fmt(now), 'dr', t.reason, 'dc', t.dcat)
        redis.call('ZADD', dead, fmt(now), id)
        died = true
      else
        redis.call('HSET', xkey(id), 'v', fmt(at))
        if dest == DEST_DELAYED then
          redis.call('ZADD', delayed, fmt(at), id)
        elseif t.head then
          redis.call('RPUSH', ready, id)
        else
          redis.call('LPUSH', ready, id)
        end
        wake = true
      end
    end
  end
end
if died then trim_dead(gmeta, dead, attempts, max_entries, now - max_age, trimmed) end
if wake then redis.call('PUBLISH', channel, '1') end
if #ended > 0 then redis.call('PUBLISH', donechannel(), table.concat(ended, ' ')) end
return { results, trimmed, lost }
