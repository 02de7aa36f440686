--[[
  xages-6: how long one group's jobs have waited and run, read in one step (it writes nothing): the availability time
  of the group's oldest ready job (the head of the jobs that came back to it, and the first stream entry it was not
  given yet, whose t is when it entered the stream: its enqueue, or when a delayed enqueue fell due), and when each of
  up to n active jobs was fetched, those whose lease runs out first. The fetch time is the part of a lease's fencing
  token after the ':' (xfetch-11 writes `<fence>:<now ms>`).

  KEYS[1] gmeta     hash    {rq:q}:g:<g>:meta      read (whether the group was created)
  KEYS[2] stream    stream  {rq:q}:stream
  KEYS[3] entries   hash    {rq:q}:entries         job id -> entry id
  KEYS[4] ready     list    {rq:q}:g:<g>:ready     jobs that came back (RPOP = head)
  KEYS[5] active    zset    {rq:q}:g:<g>:active    ids by lease deadline (ms)
  KEYS[6] lease     hash    {rq:q}:g:<g>:lease     id -> token
  derived           hash {rq:q}:g:<g>:x:<id> (field v: available at)

  ARGV[1] n (1..1000)   ARGV[2] group   ARGV[3] where a group not created yet will start: "0" or "$"

  Returns {oldest ready available at (ms) or -1, active jobs in all, fetched at (ms) of each sampled active job ...}.
]]
--!include _common.lua
--!include _transitions.lua
--!include _streams.lua
local gmeta, stream, entries, ready, active, lease = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local n = tonumber(ARGV[1])
local group, start = ARGV[2], ARGV[3]

local oldest = -1
local function consider(at)
  at = tonumber(at)
  if at and (oldest < 0 or at < oldest) then oldest = at end
end

-- The head of the jobs that came back: its x hash's v (set whenever a job comes back), else its entry's t.
local head = redis.call('LINDEX', ready, -1)
if head then
  local v = redis.call('HGET', xkey(head), 'v')
  if v then
    consider(v)
  else
    local eid = redis.call('HGET', entries, head)
    local fields = eid and read_entry(stream, eid)
    if fields then consider(field(fields, 't')) end
  end
end

-- The first entry the group was not given yet: after its last-delivered id (a group the server lost, or one not
-- created yet that starts with the retained history, starts at the first entry).
local from = nil
if redis.call('HEXISTS', gmeta, 'read') == 1 then
  from = '-'
  local info = redis.pcall('XINFO', 'GROUPS', stream)
  if not (type(info) == 'table' and info.err) then
    for _, g in ipairs(info) do
      if field(g, 'name') == group then from = '(' .. field(g, 'last-delivered-id') end
    end
  end
elseif start == '0' then
  from = '-'
end
if from then
  local next = redis.call('XRANGE', stream, from, '+', 'COUNT', 1)
  if next[1] then consider(field(next[1][2], 't')) end
end

return ages_reply(oldest, active, lease, n)
