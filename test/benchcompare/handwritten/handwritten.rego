# A hand-written policy for exactly the questions of the benchmark's request
# mixes (verdict gen --requests): what an OPA user would write for them, on
# the same data as Verdict's bundle (data.verdict_data.orgs[<org>], the
# indexed shape of docs/data-model.md). make bench-compare serves it with
# stock OPA beside Verdict's own bundle, queried at /v1/data/handwritten/decision.
#
# Every lookup is a leaf reference (a user, a share, one build's roles or one
# flow's allow-list), never a whole org, project or build. It knows only what
# the generated org uses: no legacy grants (the org has none), no role
# overrides (deprecated), no verified subject tokens, no anonymous subjects,
# no all_users_<workspace> designer groups, no explanations.
package handwritten

default decision := {"decision": false}

decision := {"decision": true} if {
	input.subject.type == "user"
	data.verdict_data.orgs[org].users[uid].status == "active"
	allow
}

org := input.context.org

uid := input.subject.id

env := input.context.environment

rid := input.resource.id

project := rid if input.resource.type == "solution"

project := input.resource.properties.project if input.resource.type != "solution"

# The project's active policy in the environment: the user's username
# override, else the group override of lowest priority among the user's
# groups, else the default.
active_policy := p if {
	p := data.verdict_data.orgs[org].projects[project].environments[env].active_policy.username_overrides[data.verdict_data.orgs[org].users[uid].username]
} else := data.verdict_data.orgs[org].projects[project].environments[env].active_policy.group_overrides[group].policy if {
	[_, group] := min([[o.priority, g] |
		some g in data.verdict_data.orgs[org].user_groups[uid]
		o := data.verdict_data.orgs[org].projects[project].environments[env].active_policy.group_overrides[g]
	])
} else := data.verdict_data.orgs[org].projects[project].environments[env].active_policy.default

build := active_policy.build

# The latest build of the branch: created_key orders as text.
build := max([[data.verdict_data.orgs[org].projects[project].builds[id].created_key, id] |
	data.verdict_data.orgs[org].projects[project].builds[id].branch == active_policy.latest_on_branch
])[1]

# The served build's role catalog (defined only when the build exists).
catalog := data.verdict_data.orgs[org].projects[project].builds[build].roles

# Runtime roles: shared to the user or to one of the user's groups in this
# project and environment, and listed by the served build.
granted contains r if some r in data.verdict_data.orgs[org].projects[project].environments[env].shares.users[uid]

granted contains r if {
	some g in data.verdict_data.orgs[org].user_groups[uid]
	some r in data.verdict_data.orgs[org].projects[project].environments[env].shares.groups[g]
}

roles contains r if {
	some r in catalog
	r in granted
}

# Designer bypass: a designerUser with designer access to the project (a
# project role, workspace admin of its workspace, org admin or owner).
bypass if {
	data.verdict_data.orgs[org].users[uid].designer_user == true
	some a in designer_roles
	designer_access(a)
}

designer_roles contains a if some a in data.verdict_data.orgs[org].designer_roles.users[uid]

designer_roles contains a if {
	some g in data.verdict_data.orgs[org].designer_groups_of[uid]
	some a in data.verdict_data.orgs[org].designer_roles.groups[g]
}

designer_access(a) if a.scope.project == project

designer_access(a) if {
	a.role == "workspace_admin"
	a.scope.workspace == data.verdict_data.orgs[org].projects[project].workspace
}

designer_access(a) if {
	a.role in {"org_admin", "org_owner"}
	a.scope.org == true
}

# solution access: a runtime role in the served build, or the bypass.
allow if {
	input.resource.type == "solution"
	input.action.name == "access"
	some _ in roles
}

allow if {
	input.resource.type == "solution"
	input.action.name == "access"
	catalog
	bypass
}

# ui_flow launch: a role on the flow's allow-list, or the bypass.
allow if {
	input.resource.type == "ui_flow"
	input.action.name == "launch"
	some r in data.verdict_data.orgs[org].projects[project].builds[build].ui_flows[rid].roles
	r in roles
}

allow if {
	input.resource.type == "ui_flow"
	input.action.name == "launch"
	data.verdict_data.orgs[org].projects[project].builds[build].ui_flows[rid].roles
	bypass
}

# component view: a role on the flow's allow-list the component is not
# hidden for, or the bypass.
allow if {
	input.resource.type == "component"
	input.action.name == "view"
	some r in data.verdict_data.orgs[org].projects[project].builds[build].ui_flows[input.resource.properties.ui_flow].roles
	r in roles
	not hidden_for(r)
}

# A function, not an inline `not r in <ref>`: a ref that is undefined (a
# component without hidden_for) would make that expression undefined.
hidden_for(r) if r in data.verdict_data.orgs[org].projects[project].builds[build].ui_flows[input.resource.properties.ui_flow].components[rid].hidden_for

allow if {
	input.resource.type == "component"
	input.action.name == "view"
	data.verdict_data.orgs[org].projects[project].builds[build].ui_flows[input.resource.properties.ui_flow].roles
	bypass
}

# process start: a role on the process, or the bypass.
allow if {
	input.resource.type == "process"
	input.action.name == "start"
	some r in data.verdict_data.orgs[org].projects[project].builds[build].processes[rid].roles
	r in roles
}

allow if {
	input.resource.type == "process"
	input.action.name == "start"
	data.verdict_data.orgs[org].projects[project].builds[build].processes[rid].roles
	bypass
}

# swimlane view / execute / self_assign: a role with that right in the
# swimlane, or the bypass.
allow if {
	input.resource.type == "swimlane"
	input.action.name in {"view", "execute", "self_assign"}
	some r in roles
	input.action.name in data.verdict_data.orgs[org].projects[project].builds[build].processes[input.resource.properties.process].swimlanes[rid][r]
}

allow if {
	input.resource.type == "swimlane"
	input.action.name in {"view", "execute", "self_assign"}
	data.verdict_data.orgs[org].projects[project].builds[build].processes[input.resource.properties.process].swimlanes[rid]
	bypass
}

# flow run (automation flows): the flow's own entries, else the project's
# defaults, else allowed; at a level, a deny (user, then role) wins over a
# grant. Roles are the runtime roles and AuthenticatedUser. No bypass.
allow if {
	input.resource.type == "flow"
	input.action.name == "run"
	data.verdict_data.orgs[org].projects[project].workspace
	env
	flow_verdict == "grant"
}

flow_verdict := v if {
	v := entries_verdict(data.verdict_data.orgs[org].projects[project].flow_permissions.flows[rid])
} else := v if {
	v := entries_verdict(data.verdict_data.orgs[org].projects[project].flow_permissions.defaults)
} else := "grant"

entries_verdict(e) := "deny" if {
	e.users[uid] == "deny"
} else := "deny" if {
	some r, "deny" in e.roles
	flow_role(r)
} else := "grant" if {
	e.users[uid] == "grant"
} else := "grant" if {
	some r, "grant" in e.roles
	flow_role(r)
}

flow_role(r) if r in roles

flow_role("AuthenticatedUser")
