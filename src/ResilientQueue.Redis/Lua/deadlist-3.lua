--[[
  deadlist-3: one page of the dead-letter store, newest first, by (dead-at, id) descending, filtered, looking at
  no more than a budget of entries.

  KEYS[1] meta      hash   {rq:q}:meta   (prefix only)
  KEYS[2] dead      zset   {rq:q}:dead   ids by dead-letter time (ms); equal times ordered by id
  KEYS[3] attempts  hash   {rq:q}:attempts
  derived           string {rq:q}:job:<id>;  hash {rq:q}:x:<id> (dc: the category filter)

  ARGV[1] upper bound (ms, inclusive) or "+inf": the cursor's time or the age bound, whichever is older
  ARGV[2] cursor time (ms) or "" (no cursor)   ARGV[3] cursor id or ""   ARGV[4] limit (1..1000)
  ARGV[5] category filter (ErrorCategory value) or ""   ARGV[6] scan budget

  Returns {next cursor time or "", next cursor id or "", {id, envelope, attempts, x}, ...}.
          A next cursor is returned when more entries may follow (the limit or the budget was reached).
]]
--!include _common.lua
local dead, attempts = KEYS[2], KEYS[3]
local upper = ARGV[1]
local cursor_time, cursor_id = tonumber(ARGV[2]), ARGV[3]
local limit, category, budget = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])

local out = { '', '' }
local count, scanned, offset = 0, 0, 0
local last_time, last_id
while true do
  local chunk = redis.call('ZREVRANGEBYSCORE', dead, upper, '-inf', 'WITHSCORES', 'LIMIT', offset, 200)
  if #chunk == 0 then return out end
  offset = offset + #chunk / 2
  for i = 1, #chunk, 2 do
    local id, t = chunk[i], tonumber(chunk[i + 1])
    if not (cursor_time and t == cursor_time and id >= cursor_id) then
      if scanned == budget then
        out[1], out[2] = fmt(last_time), last_id
        return out
      end
      scanned = scanned + 1
      if category == '' or redis.call('HGET', xkey(id), 'dc') == category then
        if count == limit then
          out[1], out[2] = fmt(last_time), last_id
          return out
        end
        out[#out + 1] = { id, redis.call('GET', jobkey(id)) or '', get_attempts(attempts, id), redis.call('HGETALL', xkey(id)) }
        count = count + 1
      end
      last_time, last_id = t, id
    end
  end
end
