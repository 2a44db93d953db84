-- Appends elements to JSON lists held in hash fields (a streamed import
-- builds user_groups, dgroups_of, legacy and droles one entry at a time).
-- KEYS[1]: the hash. ARGV: field, element (JSON), field, element, ...
-- A missing field becomes [element]; a list "[...]" becomes "[...,element]".
local h = KEYS[1]
for i = 1, #ARGV, 2 do
  local v = redis.call('HGET', h, ARGV[i])
  if v then
    v = string.sub(v, 1, -2) .. ',' .. ARGV[i + 1] .. ']'
  else
    v = '[' .. ARGV[i + 1] .. ']'
  end
  redis.call('HSET', h, ARGV[i], v)
end
return #ARGV / 2
