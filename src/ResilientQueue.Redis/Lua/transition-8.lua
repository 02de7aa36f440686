--[[
  transition-8: applies decided transitions (a failure, a release, a reap) to leased jobs, each only while its lease is
  current: the token is the job's, the attempt count is the lease's, and, for a reap, the lease deadline has not been
  moved past the given time. Applying one records its failure (if any), ends the lease, changes the attempt count and
  moves the job (see _transitions.lua). The decisions come from the core's JobTransitions; nothing is decided here.

  KEYS[1] meta      hash   {rq:q}:meta       depth counter, seq/hseq counters, dtrim (dead-letter trims in all)
  KEYS[2] ready     list   {rq:q}:ready
  KEYS[3] prio      zset   {rq:q}:prio
  KEYS[4] delayed   zset   {rq:q}:delayed
  KEYS[5] active    zset   {rq:q}:active     ids by lease deadline (ms)
  KEYS[6] dead      zset   {rq:q}:dead       ids by dead-letter time (ms)
  KEYS[7] lease     hash   {rq:q}:lease
  KEYS[8] attempts  hash   {rq:q}:attempts
  derived           string {rq:q}:job:<id> (header: priority);  hash {rq:q}:x:<id>;  hash {rq:q}:started (marks removed)

  ARGV[1] now (ms)   ARGV[2] dead-letter max entries   ARGV[3] dead-letter max age (ms)   ARGV[4] notify channel
  ARGV[5] n; then 12 values per transition: id, token, attempt (the lease's), expired-by (ms, or "" for none),
          destination (0 ready, 1 delayed, 2 dead, 3 removed), at head (1/0), available at (ms),
          attempt change (0 keep, 1 refund, 2 reset, 3 refund of a lease whose handler never started), failure ("TypeName: message", or "" for none),
          failure category, dead-letter reason, dead-letter category (ErrorCategory values)

  Publishes the ids of the jobs dead-lettered or removed, space-separated, on the channel {rq:q}:done (producers waiting
  for their results stop waiting).
  Returns {{r1 .. rn}, {trimmed...}}: ri = 1 applied, 0 not (lease lost, or renewed past expired-by; nothing changed
          for that job); trimmed lists dead-letter entries removed by the store's bounds as
          {id, "age"|"count", dead at (ms), dead reason}.
]]
--!include _common.lua
--!include _transitions.lua
local meta, ready, prio, delayed, active, dead, lease, attempts = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local now = tonumber(ARGV[1])
local max_entries = tonumber(ARGV[2])
local max_age = tonumber(ARGV[3])
local channel = ARGV[4]
local n = tonumber(ARGV[5])
local FIELDS = 12

local results, trimmed, ended = {}, {}, {}
local wake, died = false, false
for i = 1, n do
  local t = read_decision(5 + (i - 1) * FIELDS)
  local id = t.id
  results[i] = 0
  local a, applies = decided_lease(attempts, active, lease, t)
  local pr = a and header(id)
  if a and pr == nil then
    -- the envelope is gone (deleted by hand): only stale index entries are left; drop them
    leave_active(active, lease, { id })
    redis.call('HDEL', attempts, id)
  elseif applies then
    results[i] = 1
    end_decided_lease(attempts, active, lease, t, now, a)
    local w, d = move(meta, ready, prio, delayed, dead, attempts, id, pr, t.dest, t.head, t.at,
      changed_attempts(a, t.change, id), now, t.reason, tonumber(t.dcat))
    wake = wake or w
    died = died or d
    if d or t.dest == DEST_REMOVED then ended[#ended + 1] = id end
  end
end
if died then trim_dead(meta, dead, attempts, max_entries, now - max_age, trimmed) end
if wake then redis.call('PUBLISH', channel, '1') end
if #ended > 0 then redis.call('PUBLISH', donechannel(), table.concat(ended, ' ')) end
return { results, trimmed }
