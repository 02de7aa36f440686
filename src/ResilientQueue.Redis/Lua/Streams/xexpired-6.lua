--[[
  xexpired-6: finds leases of one group whose deadline is at or before a time, oldest first, for the reaper to decide
  on (it changes no job: the reaper's decisions go through xtransition-9, which checks each lease again). The records
  of jobs whose envelope is gone (their stream entry deleted outside the library) are dropped on the way and reported.

  KEYS[1] gmeta     hash    {rq:q}:g:<g>:meta       (prefix only)
  KEYS[2] stream    stream  {rq:q}:stream           the envelopes (max attempts)
  KEYS[3] entries   hash    {rq:q}:entries
  KEYS[4] active    zset    {rq:q}:g:<g>:active     ids by lease deadline (ms)
  KEYS[5] lease     hash    {rq:q}:g:<g>:lease
  KEYS[6] attempts  hash    {rq:q}:g:<g>:attempts
  derived           string {rq:q}:g:<g>:job:<id>;  hash {rq:q}:g:<g>:started;  hash {rq:q}:g:<g>:x:<id> (fields d, ur)

  ARGV[1] expired by (ms)   ARGV[2] n (1..1000)

  Returns {{id, token, deadline (ms), attempts, max attempts, started (1/0), unstarted refunds so far, ...}, {lost ids}},
          oldest deadline first.
]]
--!include _common.lua
--!include _transitions.lua
--!include _streams.lua
local stream, entries, active, lease, attempts = KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local expired = redis.call('ZRANGEBYSCORE', active, '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local out, lost = {}, {}
for i = 1, #expired, 2 do
  local id, deadline = expired[i], expired[i + 1]
  local token = redis.call('HGET', lease, id)
  local a, hasx = get_attempts(attempts, id)
  local envelope = token and envelope_of(stream, entries, id, hasx)
  if envelope then
    out[#out + 1] = id; out[#out + 1] = token; out[#out + 1] = deadline
    out[#out + 1] = a; out[#out + 1] = string.byte(envelope, 3) * 256 + string.byte(envelope, 4)
    out[#out + 1] = redis.call('HGET', startedkey(), id) == token and 1 or 0
    out[#out + 1] = hasx and tonumber(redis.call('HGET', xkey(id), 'ur') or '0') or 0
  else
    local counts = { redis.call('HGET', attempts, id) }
    leave_active(active, lease, { id })
    if token then
      forget(attempts, { id }, counts)
      lost[#lost + 1] = id
    end
  end
end
return { out, lost }
