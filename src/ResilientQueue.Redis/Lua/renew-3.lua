--[[
  renew-3: moves a current lease's deadline.

  KEYS[1] meta    hash   {rq:q}:meta   (prefix only)
  KEYS[2] active  zset   {rq:q}:active
  KEYS[3] lease   hash   {rq:q}:lease

  ARGV[1] id   ARGV[2] token   ARGV[3] new deadline (ms)

  Returns 1 renewed, 0 lease lost (nothing changed).
]]
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
