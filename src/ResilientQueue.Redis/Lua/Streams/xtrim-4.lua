--[[
  xtrim-4: the stream's housekeeping, one bounded step. (1) Deletes stream entries every group of the stream has
  acknowledged: those before the watermark, the lowest over all groups (this library's and any other) of the group's
  first pending entry, or, with none pending, the entry after its last-delivered id; so an entry some group was not
  given yet, or holds, is never deleted. Of those, the newest history-count entries of the stream are kept, for at
  most history-age. (2) Removes consumers that have nothing pending and were idle (the server's count, which decides
  nothing: XREADGROUP creates a removed consumer again) at least the idle bound, or this consumer when it leaves.
  XGROUP DELCONSUMER would drop a consumer's pending entries, so one with any is never removed. While a group this
  library created is missing on the server (deleted by hand: its next fetch creates it again from the first retained
  entry), nothing is deleted: what it still needs is unknown.

  KEYS[1] meta      hash    {rq:q}:meta       (prefix only)
  KEYS[2] stream    stream  {rq:q}:stream
  KEYS[3] entries   hash    {rq:q}:entries    job id -> entry id (deleted entries leave it)
  KEYS[4] groups    hash    {rq:q}:groups     the groups this library created

  ARGV[1] now (ms)   ARGV[2] history count (entries kept)   ARGV[3] history age (ms, or -1 for no bound)
  ARGV[4] budget (the most entries deleted)   ARGV[5] idle bound for consumers (ms)
  ARGV[6] this queue's group   ARGV[7] this queue's consumer   ARGV[8] leaving (1: remove this consumer if it can)

  Returns {entries deleted, consumers removed, watermark ("" when nothing may be deleted), a group this library
          created that is missing on the server ("" for none)}.
]]
--!include _common.lua
--!include _transitions.lua
--!include _streams.lua
local stream, entries = KEYS[2], KEYS[3]
local now, keep, max_age = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local budget, idle_bound = tonumber(ARGV[4]), tonumber(ARGV[5])
local own_group, own_consumer, leaving = ARGV[6], ARGV[7], ARGV[8] == '1'

local info = redis.pcall('XINFO', 'GROUPS', stream)
if type(info) == 'table' and info.err then return { 0, 0, '', '' } end

local watermark, removed_consumers, present = nil, 0, {}
for _, g in ipairs(info) do
  local name = field(g, 'name')
  present[name] = true
  local pending = redis.call('XPENDING', stream, name)
  local mark = pending[1] > 0 and pending[2] or id_next(field(g, 'last-delivered-id'))
  if not watermark or id_less(mark, watermark) then watermark = mark end
  if removed_consumers < 100 then
    for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', stream, name)) do
      local consumer = field(c, 'name')
      local mine = leaving and name == own_group and consumer == own_consumer
      if field(c, 'pending') == 0 and (mine or (field(c, 'idle') >= idle_bound and consumer ~= own_consumer)) and removed_consumers < 100 then
        redis.call('XGROUP', 'DELCONSUMER', stream, name, consumer)
        removed_consumers = removed_consumers + 1
      end
    end
  end
end
for _, name in ipairs(redis.call('HKEYS', KEYS[4])) do
  if not present[name] then return { 0, removed_consumers, '', name } end
end
if not watermark then return { 0, removed_consumers, '', '' } end

local length = redis.call('XLEN', stream)
local candidates = redis.call('XRANGE', stream, '-', '(' .. watermark, 'COUNT', budget)
local eids, ids = {}, {}
for _, entry in ipairs(candidates) do
  local young = max_age < 0 or tonumber(field(entry[2], 't') or '0') >= now - max_age
  if length - #eids <= keep and young then break end
  eids[#eids + 1] = entry[1]
  local id = field(entry[2], 'j')
  if id then ids[#ids + 1] = id end
end
if #eids > 0 then
  -- The deleted entries are the stream's first #eids (the range starts at its first entry and stops at the first one
  -- kept), so one exact XTRIM MINID past the last of them deletes just those, freeing whole nodes instead of marking
  -- each entry deleted as XDEL does.
  redis.call('XTRIM', stream, 'MINID', id_next(eids[#eids]))
  if #ids > 0 then each_chunk('HDEL', entries, ids) end
end
return { #eids, removed_consumers, watermark, '' }
