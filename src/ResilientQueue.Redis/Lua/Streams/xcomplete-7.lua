--[[
  xcomplete-7: completes leased jobs of one group whose token is current, as xack-7 does, and stores each one's result
  with it in the same step, under the group's own key: each group is its own pipeline, so a job consumed by several
  groups has one result per group. Every token is read before anything is written, and the results are written before
  the acknowledgements: a script stopped half way by an error (out of memory on the first write) leaves at most
  results without their acknowledgement (those jobs are still leased, run again, and their next completion replaces
  the result), never an acknowledged job without its result.

  KEYS[1] gmeta      hash    {rq:q}:g:<g>:meta        cseq (completion sequence)
  KEYS[2] stream     stream  {rq:q}:stream
  KEYS[3] entries    hash    {rq:q}:entries           job id -> entry id
  KEYS[4] active     zset    {rq:q}:g:<g>:active
  KEYS[5] completed  zset    {rq:q}:g:<g>:completed   ids by completion sequence (the time is x:<id> field ct)
  KEYS[6] lease      hash    {rq:q}:g:<g>:lease
  KEYS[7] attempts   hash    {rq:q}:g:<g>:attempts
  derived            string {rq:q}:g:<g>:result:<id> (the result record);  hash {rq:q}:g:<g>:x:<id>;
                     string {rq:q}:g:<g>:job:<id>;  hash {rq:q}:g:<g>:started (marks removed)

  ARGV[1] now (ms)   ARGV[2] completed retention (0 = forget)   ARGV[3] group   ARGV[4] the result keys' TTL (ms): the
  caller's clock decides when a result expires (the record holds that time); the TTL, a minute longer, only collects it
  ARGV[5] n; then n pairs: id, token; then n result records (RedisResultCodec: version, completed at, expires at, value)

  Publishes the ids of the completed jobs, space-separated, on the group's channel {rq:q}:g:<g>:done (producers waiting
  for results of this group).
  Returns {r1 .. rn}: 1 = completed with its result stored, 0 = lease lost (nothing changed or stored for that job).
]]
--!include _common.lua
--!include _transitions.lua
--!include _streams.lua
local gmeta, stream, entries, active, completed, lease, attempts = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local now = ARGV[1]
local retention = tonumber(ARGV[2])
local group = ARGV[3]
local ttl = ARGV[4]
local n = tonumber(ARGV[5])

local ids, current, results, done = split_current(lease, 6, n)
if #done == 0 then return results end

for i = 1, n do
  if current[i] then redis.call('SET', resultkey(ids[i]), ARGV[5 + 2 * n + i], 'PX', ttl) end
end
complete_group_jobs(gmeta, stream, entries, active, completed, lease, attempts, group, done, now, retention)
redis.call('PUBLISH', donechannel(), table.concat(done, ' '))
return results
