--[[
  xack-7: completes leased jobs of one group whose token is current: acknowledges their stream entries (XACK) and
  forgets them, or keeps the newest `retention` completed (each with the group's own copy of its envelope, so the
  stream can still be trimmed past it).

  KEYS[1] gmeta      hash    {rq:q}:g:<g>:meta        cseq (completion sequence)
  KEYS[2] stream     stream  {rq:q}:stream
  KEYS[3] entries    hash    {rq:q}:entries           job id -> entry id
  KEYS[4] active     zset    {rq:q}:g:<g>:active
  KEYS[5] completed  zset    {rq:q}:g:<g>:completed   ids by completion sequence (the time is x:<id> field ct)
  KEYS[6] lease      hash    {rq:q}:g:<g>:lease
  KEYS[7] attempts   hash    {rq:q}:g:<g>:attempts
  derived            hash {rq:q}:g:<g>:x:<id>;  string {rq:q}:g:<g>:job:<id>;  hash {rq:q}:g:<g>:started (marks removed)

  ARGV[1] now (ms)   ARGV[2] completed retention (0 = forget)   ARGV[3] group   ARGV[4] n; then n pairs: id, token

  Returns {r1 .. rn}: 1 = completed, 0 = lease lost (nothing changed for that job).
]]
--!include _common.lua
--!include _transitions.lua
--!include _streams.lua
local gmeta, stream, entries, active, completed, lease, attempts = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local now = ARGV[1]
local retention = tonumber(ARGV[2])
local group = ARGV[3]
local n = tonumber(ARGV[4])

local ids, current, results, done = split_current(lease, 5, n)
if #done > 0 then
  complete_group_jobs(gmeta, stream, entries, active, completed, lease, attempts, group, done, now, retention)
end
return results
