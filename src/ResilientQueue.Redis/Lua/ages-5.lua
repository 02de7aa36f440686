--[[
  ages-5: how long the queue's jobs have waited and run, read in one step (it writes nothing): the availability time
  of the oldest ready job (the next job of each priority: the head of the ready list and the first of each band of
  the priority set), and when each of up to n active jobs was fetched, those whose lease runs out first. The fetch
  time is the part of a lease's fencing token after the ':' (fetch-7 writes `<fence>:<now ms>`).

  KEYS[1] meta      hash   {rq:q}:meta      (prefix only)
  KEYS[2] ready     list   {rq:q}:ready     priority-0 ids (RPOP = head)
  KEYS[3] prio      zset   {rq:q}:prio      priority 1..9 ids
  KEYS[4] active    zset   {rq:q}:active    ids by lease deadline (ms)
  KEYS[5] lease     hash   {rq:q}:lease     id -> token
  derived           string {rq:q}:job:<id> (bytes 4-11: enqueued at);  hash {rq:q}:x:<id> (field v: available at)

  ARGV[1] n (1..1000)

  Returns {oldest ready available at (ms) or -1, active jobs in all, fetched at (ms) of each sampled active job ...};
          a job whose token carries no time (a lease granted before tokens did) is left out of the sample.
]]
--!include _common.lua
local ready, prio, active, lease = KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local n = tonumber(ARGV[1])

-- When a ready job became available: its x hash's v, else its enqueue time (big-endian ms in the envelope).
local function available_at(id)
  local v = redis.call('HGET', xkey(id), 'v')
  if v then return tonumber(v) end
  local b = redis.call('GETRANGE', jobkey(id), 4, 11)
  if #b < 8 then return nil end
  local ms = 0
  for i = 1, 8 do ms = ms * 256 + string.byte(b, i) end
  return ms
end

local heads = {}
local head = redis.call('LINDEX', ready, -1)
if head then heads[#heads + 1] = head end
for p = 1, 9 do
  local low = (9 - p) * PRIO_BAND
  local first = redis.call('ZRANGEBYSCORE', prio, fmt(low), '(' .. fmt(low + PRIO_BAND), 'LIMIT', 0, 1)
  if first[1] then heads[#heads + 1] = first[1] end
end
local oldest = -1
for _, id in ipairs(heads) do
  local at = available_at(id)
  if at and (oldest < 0 or at < oldest) then oldest = at end
end

return ages_reply(oldest, active, lease, n)
