-- _common.lua: included at the top of every script (after its header).
--
-- Storage of one job (all keys share the queue's hash tag, so a queue is one Redis Cluster slot):
--   {rq:q}:job:<id>   string  the immutable envelope, written once by enqueue: byte 1 format version, byte 2
--                             priority, bytes 3-4 max attempts (big-endian), then enqueued-at and the producer's
--                             fields, then the payload (see RedisJobCodec). Scripts read the header with GETRANGE.
--   {rq:q}:x:<id>     hash    rarely needed mutable fields, created only when one is set: v available at (ms),
--                             err last error, ec its category, f failures (JSON), c checkpoint, dt/dr/dc dead
--                             at/reason/category, ct completed at
--   {rq:q}:attempts   hash    id -> attempts, as "<n>" or "<n>+" when {rq:q}:x:<id> exists
--   {rq:q}:lease      hash    id -> the current fencing token, only while the job is active
--   {rq:q}:started    hash    id -> the token of the lease whose handler has started (marked by the worker, shortly
--                             after the start, unless the job's outcome came first); a lease that runs out unmarked
--                             gets its attempt back (at most twice in a job's life: x field ur counts those refunds)
--   {rq:q}:result:<id> string the result of a job completed by complete-5: byte 1 format version, bytes 2-9
--                             completed at, 10-17 expires at (Unix ms, big-endian; the caller's clock decides expiry,
--                             the key's TTL only collects it), then the value (see RedisResultCodec)
-- The happy path (enqueue, fetch, ack) therefore runs batch commands (MSET, MGET, HMGET, HSET, DEL, ZADD, ZREM)
-- once per batch instead of several commands per job.
local prefix = string.sub(KEYS[1], 1, #KEYS[1] - 4)
local function jobkey(id) return prefix .. 'job:' .. id end
local function xkey(id) return prefix .. 'x:' .. id end
local function idemkey(k) return prefix .. 'idem:' .. k end
local function turnkey(name) return prefix .. 'turn:' .. name end
local function startedkey() return prefix .. 'started' end
local function resultkey(id) return prefix .. 'result:' .. id end
-- The channel of completions: the ids of jobs that completed with a result or failed for good, for waiting producers.
local function donechannel() return prefix .. 'done' end

-- The lease and attempts hashes always hold this field: its value is longer than Redis's hash-max-listpack-value
-- (64 by default), so the hashes stay in hashtable encoding (O(1) per field) and are never emptied and recreated
-- in listpack encoding, where every field lookup of a batch would be a linear scan. Its name starts with '~',
-- which no job id does.
local SENTINEL_FIELD = '~encoding'
local SENTINEL_VALUE = string.rep('-', 128)

-- Numbers go to Redis as exact integers (Lua's default %.14g would round scores and times).
local function fmt(n) return string.format('%.0f', n) end

-- A leased job's header in a fetch's reply, one value instead of four (fewer values for the client to parse):
-- "<attempts> <t> <token> <id>", t empty when unknown. The id comes last, so it may hold any character.
local function lease_header(a, t, token, id) return fmt(a) .. ' ' .. t .. ' ' .. token .. ' ' .. id end

-- A fetch reply's leased jobs, packed into few values (one bulk string for the client to read per piece, instead of two
-- values per job): per job the byte lengths of its header (lease_header's) and of its envelope, 4 bytes big-endian
-- each (struct.pack: no number formatting per job), then the header and the envelope, so both may hold any byte. A
-- piece is closed after the job that takes it to PACK_PIECE_BYTES, so no value grows past that and one envelope,
-- whatever the batch and the payload limit. new_pack() starts one, pack_lease(pack, ...) adds a job, packed(pack)
-- returns the pieces.
local PACK_PIECE_BYTES = 8388608
local function new_pack() return { size = 0, pieces = {}, open = {} } end
local function pack_lease(pack, a, t, token, id, envelope)
  local h = lease_header(a, t, token, id)
  local open = pack.open
  local k = #open
  open[k + 1] = struct.pack('>I4I4', #h, #envelope); open[k + 2] = h; open[k + 3] = envelope
  pack.size = pack.size + 8 + #h + #envelope
  if pack.size >= PACK_PIECE_BYTES then
    pack.pieces[#pack.pieces + 1] = table.concat(open)
    pack.open, pack.size = {}, 0
  end
end
local function packed(pack)
  if #pack.open > 0 then pack.pieces[#pack.pieces + 1] = table.concat(pack.open) end
  return pack.pieces
end

-- Enqueue's first pass (enqueue-5, xenqueue-5) over the n jobs of ARGV (from ARGV[6], `fields` values each, the id
-- first and the idempotency key at offset `keyat`): which jobs hold a key that is known (while its expiry, the
-- caller's clock, is after now) or repeated earlier in the batch. Nothing is written.
-- Returns {1, r1 .. rn} (ri "" for a new job, else the id of the job that holds its key) and the number of new jobs.
local function find_duplicates(n, fields, keyat, now)
  local out, owner, fresh = { 1 }, {}, 0
  for i = 1, n do
    local base = 5 + (i - 1) * fields
    local key = ARGV[base + keyat]
    local dup = ''
    if key ~= '' then
      if owner[key] then
        dup = owner[key]
      else
        local known = redis.call('GET', idemkey(key))
        local sep = known and string.find(known, '|', 1, true)
        if sep and tonumber(string.sub(known, sep + 1)) > now then
          dup = string.sub(known, 1, sep - 1)
          owner[key] = dup
        else
          owner[key] = ARGV[base + 1]
        end
      end
    end
    out[i + 1] = dup
    if dup == '' then fresh = fresh + 1 end
  end
  return out, fresh
end

-- Makes a new job the holder of its idempotency key ("" = none): "<job id>|<expires ms>", known while expires > now
-- (the caller's clock); the server TTL (window + 60 s) only collects it.
local function hold_key(key, id, now, window)
  if key ~= '' then
    redis.call('SET', idemkey(key), id .. '|' .. fmt(now + window), 'PX', fmt(window + 60000))
  end
end

-- The reply of the ages scripts (ages-5, xages-6): the oldest ready job's availability (ms, -1 none), the number of
-- active jobs, then the fetch times of the first n leases by deadline, read from their tokens
-- ("<fence>:<granted at ms>").
local function ages_reply(oldest, active, lease, n)
  local out = { oldest, redis.call('ZCARD', active) }
  local ids = redis.call('ZRANGE', active, 0, n - 1)
  if #ids > 0 then
    local tokens = redis.call('HMGET', lease, unpack(ids))
    for i = 1, #ids do
      local at = tokens[i] and string.match(tokens[i], ':(%d+)$')
      if at then out[#out + 1] = tonumber(at) end
    end
  end
  return out
end

-- Priorities 1..9 live in one sorted set; ZPOPMIN yields the highest priority first, FIFO within one.
-- Score = (9 - priority) * 2^45 + 2^44 + sequence (tail) or - head sequence (released jobs go first).
local PRIO_BAND = 35184372088832
local PRIO_OFFSET = 17592186044416

-- The priority and max attempts of a job, from its envelope's header; nil when the job is gone.
local function header(id)
  local h = redis.call('GETRANGE', jobkey(id), 1, 3)
  if #h < 3 then return nil, nil end
  return string.byte(h, 1), string.byte(h, 2) * 256 + string.byte(h, 3)
end

-- Attempts of a job and whether its x hash exists.
local function parse_attempts(v)
  if not v then return 0, false end
  if string.sub(v, -1) == '+' then return tonumber(string.sub(v, 1, -2)), true end
  return tonumber(v), false
end
local function get_attempts(attempts, id) return parse_attempts(redis.call('HGET', attempts, id)) end
local function attempts_value(n, hasx) if hasx then return n .. '+' end return tostring(n) end

-- Sets fields of a job's x hash (and flags it in the attempts hash): HSET x:<id> field value ...
local function set_x(attempts, id, ...)
  redis.call('HSET', xkey(id), ...)
  local n, hasx = get_attempts(attempts, id)
  if not hasx then redis.call('HSET', attempts, id, attempts_value(n, true)) end
end

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

-- Calls a variadic command with at most 1000 items per call (Lua's unpack has a stack limit). Returns the
-- first call's reply and every call's reply concatenated when they are arrays.
local function each_chunk(cmd, key, items)
  local first, all = nil, {}
  for i = 1, #items, 1000 do
    local args = {}
    for j = i, math.min(i + 999, #items) do args[#args + 1] = items[j] end
    local r
    if key then r = redis.call(cmd, key, unpack(args)) else r = redis.call(cmd, unpack(args)) end
    if i == 1 then first = r end
    if type(r) == 'table' then for _, v in ipairs(r) do all[#all + 1] = v end end
  end
  return first, all
end

-- Deletes jobs entirely: envelopes, x hashes, attempts and leases.
local function delete_jobs(attempts, lease, ids)
  if #ids == 0 then return end
  local keys = {}
  for _, id in ipairs(ids) do keys[#keys + 1] = jobkey(id); keys[#keys + 1] = xkey(id) end
  each_chunk('DEL', nil, keys)
  each_chunk('HDEL', attempts, ids)
  if lease then each_chunk('HDEL', lease, ids) end
end

-- Records a failure in the job's x hash: last error, category and the history (the first failure and the
-- most recent ones, at most 10), as JSON [[ms, attempt, category, error], ...].
local function record_failure(attempts, id, now, attempt, cat, err)
  local f = redis.call('HGET', xkey(id), 'f')
  local history = f and cjson.decode(f) or {}
  if #history >= 10 then table.remove(history, 2) end
  history[#history + 1] = { now, attempt, cat, err }
  set_x(attempts, id, 'err', err, 'ec', cat, 'f', cjson.encode(history))
end

-- Trims the dead-letter set to its bounds: entries dead before `cutoff` (age), then beyond `max_entries`
-- (count, oldest first), at most 1000 of each per call. Appends {id, reason, dead_at, dead_reason} to
-- `trimmed` for the caller to log and count, and adds the number to meta.dtrim.
local function trim_dead(meta, dead, attempts, max_entries, cutoff, trimmed)
  local before = #trimmed
  local function drop(ids, reason)
    for _, id in ipairs(ids) do
      local info = redis.call('HMGET', xkey(id), 'dt', 'dr')
      trimmed[#trimmed + 1] = { id, reason, info[1] or '', info[2] or '' }
    end
    if #ids > 0 then
      delete_jobs(attempts, nil, ids)
      each_chunk('ZREM', dead, ids)
    end
  end
  drop(redis.call('ZRANGEBYSCORE', dead, '-inf', '(' .. fmt(cutoff), 'LIMIT', 0, 1000), 'age')
  local over = redis.call('ZCARD', dead) - max_entries
  if over > 0 then
    drop(redis.call('ZRANGE', dead, 0, math.min(over, 1000) - 1), 'count')
  end
  if #trimmed > before then redis.call('HINCRBY', meta, 'dtrim', #trimmed - before) end
end
