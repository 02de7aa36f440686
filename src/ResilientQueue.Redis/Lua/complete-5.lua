--[[
  complete-5: completes leased jobs whose token is current, as ack-5 does, and stores each one's result with it in the
  same step, so an acknowledged job without its result never exists. Every token is read before anything is written,
  and the results are written before the acknowledgements: a script stopped half way by an error (out of memory on the
  first write) leaves at most results without their acknowledgement (those jobs are still leased, run again, and their
  next completion replaces the result), never an acknowledged job without its result.

  KEYS[1] meta       hash   {rq:q}:meta        depth counter, cseq (completion sequence)
  KEYS[2] active     zset   {rq:q}:active
  KEYS[3] completed  zset   {rq:q}:completed   ids by completion sequence (the time is x:<id> field ct)
  KEYS[4] lease      hash   {rq:q}:lease
  KEYS[5] attempts   hash   {rq:q}:attempts
  derived            string {rq:q}:result:<id> (the result record);  string {rq:q}:job:<id>;  hash {rq:q}:x:<id>;
                     hash {rq:q}:started (marks removed)

  ARGV[1] now (ms)   ARGV[2] completed retention (0 = delete)   ARGV[3] the result keys' TTL (ms): the caller's clock
  decides when a result expires (the record holds that time); the TTL, a minute longer, only collects it
  ARGV[4] n; then n pairs: id, token; then n result records (RedisResultCodec: version, completed at, expires at, value)

  Publishes the ids of the completed jobs, space-separated, on the channel {rq:q}:done (producers waiting for results).
  Returns {r1 .. rn}: 1 = completed with its result stored, 0 = lease lost (nothing changed or stored for that job).
]]
--!include _common.lua
--!include _transitions.lua
local meta, active, completed, lease, attempts = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = ARGV[1]
local retention = tonumber(ARGV[2])
local ttl = ARGV[3]
local n = tonumber(ARGV[4])

local ids, current, results, done = split_current(lease, 5, n)
if #done == 0 then return results end

for i = 1, n do
  if current[i] then redis.call('SET', resultkey(ids[i]), ARGV[4 + 2 * n + i], 'PX', ttl) end
end
complete_jobs(meta, active, completed, lease, attempts, done, now, retention)
redis.call('PUBLISH', donechannel(), table.concat(done, ' '))
return results
