--[[
  xenqueue-5: adds jobs to a stream queue (one or a batch) atomically: idempotency keys checked, capacity checked
  against the deepest group, then all added or none. A job added now joins the stream (so every group gets it); a
  delayed one waits in the queue's delayed set and joins the stream when due (the fetch of any group moves it).

  KEYS[1] meta      hash    {rq:q}:meta       kind, added
  KEYS[2] stream    stream  {rq:q}:stream     entries j, t, e
  KEYS[3] entries   hash    {rq:q}:entries    job id -> entry id
  KEYS[4] delayed   zset    {rq:q}:delayed    delayed enqueues by due time (ms)
  KEYS[5] groups    hash    {rq:q}:groups     the groups (their depth is the capacity check's)
  derived           string  {rq:q}:job:<id> (a delayed job's envelope);  string {rq:q}:idem:<key> (as enqueue-5's);
                    hash {rq:q}:g:<g>:meta, list {rq:q}:g:<g>:ready, zsets {rq:q}:g:<g>:delayed, {rq:q}:g:<g>:active
                    (each group's depth, read)

  ARGV[1] now (ms)   ARGV[2] capacity   ARGV[3] idempotency window (ms)   ARGV[4] notify channel
  ARGV[5] n, the number of jobs; then 4 values per job: id, envelope, delay (ms), idempotency key ("" = none)

  Returns {1, r1 .. rn}: ri is "" when job i was added, else the id of the job that holds its idempotency key.
          {-1, depth, new jobs}: the new jobs do not fit under the capacity; nothing was changed.
          {-2}: the queue is stored by the list backend; nothing was changed.
]]
--!include _common.lua
--!include _transitions.lua
--!include _streams.lua
local qmeta, stream, entries, qdelayed, groups = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local channel = ARGV[4]
local n = tonumber(ARGV[5])
local FIELDS = 4

local kind = redis.call('HMGET', qmeta, 'kind', 'depth')
if not kind[1] and kind[2] then return { -2 } end

-- Pass 1: duplicates (known keys, and keys repeated inside the batch). Nothing is written yet.
local out, fresh = find_duplicates(n, FIELDS, 4, now)
if fresh == 0 then return out end

local depth, idle = queue_depth(qmeta, stream, qdelayed, groups)
if depth + fresh > capacity then return { -1, depth, fresh } end

-- Pass 2: add the new jobs.
local now_jobs, due, held = {}, {}, {}
for i = 1, n do
  if out[i + 1] == '' then
    local base = 5 + (i - 1) * FIELDS
    local id, envelope, delay, key = ARGV[base + 1], ARGV[base + 2], tonumber(ARGV[base + 3]), ARGV[base + 4]
    hold_key(key, id, now, window)
    if delay > 0 then
      due[#due + 1] = fmt(now + delay); due[#due + 1] = id
      held[#held + 1] = qjobkey(id); held[#held + 1] = envelope
    else
      now_jobs[#now_jobs + 1] = { id, envelope, fmt(now) }
    end
  end
end
redis.call('HSET', qmeta, 'kind', 'stream')
add_entries(qmeta, stream, entries, now_jobs)
if #due > 0 then
  each_chunk('MSET', nil, held)
  each_chunk('ZADD', qdelayed, due)
end
-- Consumers can be idle only in a group that had nothing left to be given; delayed jobs change when waiters wake.
if idle or #due > 0 then redis.call('PUBLISH', channel, '1') end
return out
