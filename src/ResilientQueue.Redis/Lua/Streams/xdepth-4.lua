--[[
  xdepth-4: the depth the capacity check of an enqueue uses: the deepest group's (not given yet, ready again, delayed,
  active, and the queue's delayed enqueues); with no group yet, the stream's entries and the delayed enqueues.

  KEYS[1] meta      hash    {rq:q}:meta       added
  KEYS[2] stream    stream  {rq:q}:stream
  KEYS[3] delayed   zset    {rq:q}:delayed
  KEYS[4] groups    hash    {rq:q}:groups
  derived           hash {rq:q}:g:<g>:meta, list {rq:q}:g:<g>:ready, zsets {rq:q}:g:<g>:delayed, {rq:q}:g:<g>:active

  ARGV none.

  Returns the depth.
]]
--!include _common.lua
--!include _transitions.lua
--!include _streams.lua
return (queue_depth(KEYS[1], KEYS[2], KEYS[3], KEYS[4]))
