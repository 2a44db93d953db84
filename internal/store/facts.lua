-- Reads everything one decision may need about one subject, in one call and
-- one consistent snapshot (docs/redis-keys.md). All keys share the org's hash
-- tag, so the script runs on the org's node of a Cluster.
-- KEYS[1]: the org's users hash (routes the call). ARGV: key prefix, user id,
-- project, environment, business filter ("" when the request names none).
local p, uid, project, env, filter = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local user, ug, legacy, dgo = false, false, false, false
local groups = {}
if uid ~= '' then
  user = redis.call('HGET', p .. 'users', uid)
  ug = redis.call('HGET', p .. 'user_groups', uid)
  legacy = redis.call('HGET', p .. 'legacy', uid)
  dgo = redis.call('HGET', p .. 'dgroups_of', uid)
end
if ug then groups = cjson.decode(ug) end
local gattrs = {}
if #groups > 0 then gattrs = redis.call('HMGET', p .. 'groups', unpack(groups)) end
-- Designer assignments: the user's, its designer groups', and those of every
-- workspace's all_users group (membership is the policies' call).
local dkeys = {'u:' .. uid}
if dgo then
  for _, g in ipairs(cjson.decode(dgo)) do table.insert(dkeys, 'g:' .. g) end
end
local settings = redis.call('HGET', p .. 'org', 'settings')
if settings then
  local st = cjson.decode(settings)
  if type(st.workspaces) == 'table' then
    for _, w in ipairs(st.workspaces) do table.insert(dkeys, 'g:all_users_' .. w.id) end
  end
end
local droles = redis.call('HMGET', p .. 'droles', unpack(dkeys))
local proj, buildIDs, envf = false, {}, {}
if project ~= '' then
  proj = redis.call('HGET', p .. 'projects', project)
  if proj then
    buildIDs = redis.call('HKEYS', p .. 'builds:' .. project)
    if env ~= '' then
      local uname = ''
      if user then uname = cjson.decode(user).username or '' end
      local fields = {'env', 'ap', 'ro', 'su:' .. uid, 'uo:' .. uname}
      for _, g in ipairs(groups) do
        table.insert(fields, 'sg:' .. g)
        table.insert(fields, 'go:' .. g)
      end
      envf = redis.call('HMGET', p .. 'env:' .. project .. ':' .. env, unpack(fields))
    end
  end
end
local f = false
if filter ~= '' then f = redis.call('HGET', p .. 'filters', filter) end
local rev = redis.call('GET', p .. 'rev')
return {user or '', ug or '', gattrs, legacy or '', dgo or '', dkeys, droles, proj or '', buildIDs, envf, f or '', rev or '0'}
