--[[
  clear-9: one step of clearing a queue: removes up to n jobs in any state (ready, delayed, active, dead, completed),
  with their envelopes, x hashes, attempts and leases; when no job is left, removes the queue's structures and meta
  hash (paused flag, counters). Idempotency keys and turns (strings with a TTL) are removed by the caller.

  KEYS[1] meta       hash   {rq:q}:meta
  KEYS[2] ready      list   {rq:q}:ready
  KEYS[3] prio       zset   {rq:q}:prio
  KEYS[4] delayed    zset   {rq:q}:delayed
  KEYS[5] active     zset   {rq:q}:active
  KEYS[6] dead       zset   {rq:q}:dead
  KEYS[7] completed  zset   {rq:q}:completed
  KEYS[8] lease      hash   {rq:q}:lease
  KEYS[9] attempts   hash   {rq:q}:attempts
  derived            string {rq:q}:job:<id>;  hash {rq:q}:x:<id>;  hash {rq:q}:started

  ARGV[1] n (the most jobs this step removes)

  Returns the number of jobs removed; 0 when the queue was empty and its structures are gone.
]]
--!include _common.lua
local meta, ready, prio, delayed, active, dead, completed, lease, attempts = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local left = tonumber(ARGV[1])
local ids = {}
local function take_set(key)
  if left <= 0 then return end
  local members = redis.call('ZRANGE', key, 0, left - 1)
  if #members > 0 then
    each_chunk('ZREM', key, members)
    for _, id in ipairs(members) do ids[#ids + 1] = id end
    left = left - #members
  end
end
if left > 0 then
  local popped = redis.call('RPOP', ready, left)
  if popped then
    for _, id in ipairs(popped) do ids[#ids + 1] = id end
    left = left - #popped
  end
end
take_set(prio); take_set(delayed); take_set(active); take_set(dead); take_set(completed)
if #ids > 0 then
  delete_jobs(attempts, lease, ids)
  return #ids
end
redis.call('DEL', meta, ready, prio, delayed, active, dead, completed, lease, attempts, startedkey())
return 0
