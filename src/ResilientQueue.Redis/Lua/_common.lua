-- _common.lua: included at the top of every script (after its header). Defines helpers over the queue's keys.
-- KEYS[1] is always the queue's meta hash, "{rq:<queue>}:meta"; every job key is derived from it, so all keys
-- a script touches share the queue's hash tag (one Redis Cluster slot).
local prefix = string.sub(KEYS[1], 1, #KEYS[1] - 4)
local function jobkey(id) return prefix .. 'job:' .. id end
local function idemkey(k) return prefix .. 'idem:' .. k end

-- Numbers go to Redis as exact integers (Lua's default %.14g would round scores and times).
local function fmt(n) return string.format('%.0f', n) end

-- Priorities 1..9 live in one sorted set; ZPOPMIN yields the highest priority first, FIFO within one.
-- Score = (9 - priority) * 2^45 + 2^44 + sequence (tail) or - head sequence (released jobs go first).
local PRIO_BAND = 35184372088832
local PRIO_OFFSET = 17592186044416

-- Appends (head = false) or prepends (head = true) one job id to the ready structure of its priority.
local function push_ready(meta, ready, prio, id, pr, head)
  if pr == 0 then
    if head then redis.call('RPUSH', ready, id) else redis.call('LPUSH', ready, id) end
  else
    local seq
    if head then
      seq = -redis.call('HINCRBY', meta, 'hseq', 1)
    else
      seq = redis.call('HINCRBY', meta, 'seq', 1)
    end
    redis.call('ZADD', prio, fmt((9 - pr) * PRIO_BAND + PRIO_OFFSET + seq), id)
  end
end

-- Calls a variadic command with at most 1000 arguments per call (Lua's unpack has a stack limit).
local function each_chunk(cmd, key, items, prefix_args)
  local total = 0
  for i = 1, #items, 1000 do
    local args = {}
    if prefix_args then for _, a in ipairs(prefix_args) do args[#args + 1] = a end end
    for j = i, math.min(i + 999, #items) do args[#args + 1] = items[j] end
    local r = redis.call(cmd, key, unpack(args))
    if i == 1 then total = r end
  end
  return total
end

-- Trims the dead-letter set to its bounds: entries dead before `cutoff` (age) and beyond `max_entries`
-- (count, oldest first), at most 1000 of each per call. Appends {id, reason, dead_at, dead_reason} to
-- `trimmed` for the caller to log and count, and adds the number to meta.dtrim.
local function trim_dead(meta, dead, max_entries, cutoff, trimmed)
  local before = #trimmed
  local function drop(ids, reason)
    for _, id in ipairs(ids) do
      local info = redis.call('HMGET', jobkey(id), 'dt', 'dr')
      trimmed[#trimmed + 1] = { id, reason, info[1] or '', info[2] or '' }
      redis.call('DEL', jobkey(id))
    end
    if #ids > 0 then each_chunk('ZREM', dead, ids) end
  end
  drop(redis.call('ZRANGEBYSCORE', dead, '-inf', '(' .. fmt(cutoff), 'LIMIT', 0, 1000), 'age')
  local over = redis.call('ZCARD', dead) - max_entries
  if over > 0 then
    drop(redis.call('ZRANGE', dead, 0, math.min(over, 1000) - 1), 'count')
  end
  if #trimmed > before then redis.call('HINCRBY', meta, 'dtrim', #trimmed - before) end
end

-- Formats Unix milliseconds as ISO 8601 UTC, e.g. 2026-01-01T00:00:10.000Z (Redis Lua has no os.date).
-- Civil-from-days conversion (proleptic Gregorian calendar).
local function iso_utc(ms)
  local s = math.floor(ms / 1000)
  local milli = ms - s * 1000
  local days = math.floor(s / 86400)
  local secs = s - days * 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d,
    math.floor(secs / 3600), math.floor((secs % 3600) / 60), secs % 60, milli)
end
