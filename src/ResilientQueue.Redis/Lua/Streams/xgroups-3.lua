--[[
  xgroups-3: creates the named groups that do not exist yet (a producer declares the groups of its pipeline before
  its first enqueue, so no job reaches the stream, and no entry is trimmed, before every group can get it).

  KEYS[1] meta      hash    {rq:q}:meta       kind, added
  KEYS[2] stream    stream  {rq:q}:stream
  KEYS[3] groups    hash    {rq:q}:groups
  derived           hash {rq:q}:g:<g>:meta, hashes {rq:q}:g:<g>:lease, {rq:q}:g:<g>:attempts (created)

  ARGV[1] where a new group starts: "0" (every retained entry) or "$" (new entries only); ARGV[2..] the groups

  Returns the groups created now.
]]
--!include _common.lua
--!include _transitions.lua
--!include _streams.lua
local created = {}
for i = 2, #ARGV do
  if not redis.call('HGET', gkey(ARGV[i], 'meta'), 'read') then
    create_group(KEYS[1], KEYS[2], KEYS[3], ARGV[i], ARGV[1])
    created[#created + 1] = ARGV[i]
  end
end
return created
