--[[
  xgetjob-9: reads one job as one group sees it, and its state, in one step. A job the group tracks is active,
  delayed, dead, completed or (otherwise) ready again; one it does not track is delayed (a delayed enqueue), ready (in
  the stream after the group's last-delivered id, not given to it yet) or unknown to the group (finished and
  forgotten, or never there).

  KEYS[1] gmeta      hash    {rq:q}:g:<g>:meta        read (whether the group was created)
  KEYS[2] stream     stream  {rq:q}:stream
  KEYS[3] entries    hash    {rq:q}:entries
  KEYS[4] qdelayed   zset    {rq:q}:delayed
  KEYS[5] delayed    zset    {rq:q}:g:<g>:delayed
  KEYS[6] active     zset    {rq:q}:g:<g>:active
  KEYS[7] dead       zset    {rq:q}:g:<g>:dead
  KEYS[8] completed  zset    {rq:q}:g:<g>:completed
  KEYS[9] attempts   hash    {rq:q}:g:<g>:attempts
  derived            string {rq:q}:job:<id> (a delayed enqueue);  string {rq:q}:g:<g>:job:<id>;  hash {rq:q}:g:<g>:x:<id>

  ARGV[1] id   ARGV[2] group   ARGV[3] where a group not created yet will start: "0" or "$"

  Returns {state (JobState value: 0 ready, 1 delayed, 2 active, 3 dead, 4 completed), envelope, attempts,
          x (HGETALL; with v, when the job became available, added when the hash has none), lease deadline (ms, or
          -1 unless active)}, or {} when the group has no such job.
]]
--!include _common.lua
--!include _transitions.lua
--!include _streams.lua
local gmeta, stream, entries, qdelayed, delayed, active, dead, completed, attempts =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local id, group, start = ARGV[1], ARGV[2], ARGV[3]

local function reply(state, envelope, a, x, t, deadline)
  if t ~= '' and t ~= nil then
    local has_v = false
    for i = 1, #x - 1, 2 do if x[i] == 'v' then has_v = true end end
    if not has_v then x[#x + 1] = 'v'; x[#x + 1] = t end
  end
  return { state, envelope, a, x, deadline }
end

local count = redis.call('HGET', attempts, id)
if count then
  local a, hasx = parse_attempts(count)
  local envelope, t = envelope_of(stream, entries, id, hasx)
  if not envelope then return {} end
  local x = hasx and redis.call('HGETALL', xkey(id)) or {}
  local leased = redis.call('ZSCORE', active, id)
  if leased then return reply(2, envelope, a, x, t, tonumber(leased)) end
  local state = 0
  if redis.call('ZSCORE', delayed, id) then state = 1
  elseif redis.call('ZSCORE', dead, id) then state = 3
  elseif redis.call('ZSCORE', completed, id) then state = 4
  end
  return reply(state, envelope, a, x, t, -1)
end

local due = redis.call('ZSCORE', qdelayed, id)
if due then
  local envelope = redis.call('GET', qjobkey(id))
  if not envelope then return {} end
  return reply(1, envelope, 0, {}, due, -1)
end

local eid = redis.call('HGET', entries, id)
local fields = eid and read_entry(stream, eid)
if not fields then return {} end
if redis.call('HGET', gmeta, 'read') then
  -- given to the group already (and so finished: it is not tracked) unless it is past the group's last-delivered id
  local info = redis.pcall('XINFO', 'GROUPS', stream)
  local last
  if not (type(info) == 'table' and info.err) then
    for _, g in ipairs(info) do if field(g, 'name') == group then last = field(g, 'last-delivered-id') end end
  end
  if last and not id_less(last, eid) then return {} end
elseif start ~= '0' then
  return {}
end
return reply(0, field(fields, 'e'), 0, {}, field(fields, 't'), -1)
