-- Reads everything one decision may need about one subject, in one call and
-- one consistent snapshot (docs/redis-keys.md). All keys share the org's hash
-- tag, so the script runs on the org's node of a Cluster.
-- KEYS[1]: the org's users hash (routes the call). ARGV: key prefix, user id,
-- project, environment, business filter ("" when the request names none).
--
-- The records the script itself must read (a user's groups and designer
-- groups, the username, the org's workspaces) are decoded with pcall: one that
-- does not decode ends the script with {'!invalid', key, field}, so that the
-- decision is denied naming it instead of failing as if Redis were down.
local p, uid, project, env, filter = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
-- An org exists while it has settings (a deleted org keeps only its revision,
-- audit and changes).
local settings = redis.call('HGET', p .. 'org', 'settings')
if not settings then return {'!unknown'} end
local rev = redis.call('GET', p .. 'rev') or '0'
-- The id of the org's last change: with the revision, what identifies the
-- org's state, even after a data loss made a revision number repeat.
local last = redis.call('XREVRANGE', p .. 'changes', '+', '-', 'COUNT', 1)
local change = ''
if #last > 0 then change = last[1][1] end
local function decode(raw, key, field)
  local ok, v = pcall(cjson.decode, raw)
  if not ok or type(v) ~= 'table' then return nil, {'!invalid', p .. key, field} end
  return v
end
local user, ug, legacy, dgo = false, false, false, false
local groups = {}
if uid ~= '' then
  user = redis.call('HGET', p .. 'users', uid)
  ug = redis.call('HGET', p .. 'user_groups', uid)
  legacy = redis.call('HGET', p .. 'legacy', uid)
  dgo = redis.call('HGET', p .. 'dgroups_of', uid)
end
if ug then
  local v, bad = decode(ug, 'user_groups', uid)
  if bad then return bad end
  groups = v
  for _, g in ipairs(groups) do
    if type(g) ~= 'string' then return {'!invalid', p .. 'user_groups', uid} end
  end
end
local gattrs = {}
if #groups > 0 then gattrs = redis.call('HMGET', p .. 'groups', unpack(groups)) end
-- Designer assignments: the user's, its designer groups', and those of every
-- workspace's all_users group (membership is the policies' call).
local dkeys = {'u:' .. uid}
if dgo then
  local v, bad = decode(dgo, 'dgroups_of', uid)
  if bad then return bad end
  for _, g in ipairs(v) do
    if type(g) ~= 'string' then return {'!invalid', p .. 'dgroups_of', uid} end
    table.insert(dkeys, 'g:' .. g)
  end
end
do
  local st, bad = decode(settings, 'org', 'settings')
  if bad then return bad end
  if st.workspaces ~= nil and st.workspaces ~= cjson.null then
    if type(st.workspaces) ~= 'table' then return {'!invalid', p .. 'org', 'settings'} end
    for _, w in ipairs(st.workspaces) do
      if type(w) ~= 'table' or type(w.id) ~= 'string' then return {'!invalid', p .. 'org', 'settings'} end
      table.insert(dkeys, 'g:all_users_' .. w.id)
    end
  end
end
local droles = redis.call('HMGET', p .. 'droles', unpack(dkeys))
local proj, buildIDs, envf, uname = false, {}, {}, ''
if project ~= '' then
  proj = redis.call('HGET', p .. 'projects', project)
  if proj then
    buildIDs = redis.call('HKEYS', p .. 'builds:' .. project)
    if env ~= '' then
      if user then
        local u, bad = decode(user, 'users', uid)
        if bad then return bad end
        if type(u.username) == 'string' then uname = u.username end
      end
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
return {rev, change, settings, user or '', ug or '', gattrs, legacy or '', dgo or '', dkeys, droles, proj or '', buildIDs, envf, f or '', uname}
