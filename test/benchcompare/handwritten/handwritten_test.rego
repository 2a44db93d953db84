package handwritten_test

import data.handwritten

build(branch, created, roles, flows, processes) := {
	"branch": branch, "created_key": created, "roles": roles,
	"ui_flows": flows, "processes": processes,
}

procs := {"pr": {"roles": ["Clerk"], "swimlanes": {"s": {"Clerk": ["view"], "Manager": ["view", "execute"]}}}}

orgs := {"t": {
	"org": "t",
	"users": {
		"u-ann": {"id": "u-ann", "username": "ann", "status": "active"},
		"u-bob": {"id": "u-bob", "username": "bob", "status": "active"},
		"u-cat": {"id": "u-cat", "username": "cat", "status": "active"},
		"u-clerk": {"id": "u-clerk", "username": "clerk", "status": "active"},
		"u-none": {"id": "u-none", "username": "none", "status": "active"},
		"u-off": {"id": "u-off", "username": "off", "status": "disabled"},
		"u-dev": {"id": "u-dev", "username": "dev", "status": "active", "designer_user": true},
		"u-nodev": {"id": "u-nodev", "username": "nodev", "status": "active"},
		"u-adm": {"id": "u-adm", "username": "adm", "status": "active", "designer_user": true},
		"u-wsa": {"id": "u-wsa", "username": "wsa", "status": "active", "designer_user": true},
		"u-wso": {"id": "u-wso", "username": "wso", "status": "active", "designer_user": true},
	},
	"user_groups": {"u-ann": ["g-ops"], "u-bob": ["g-ops", "g-beta"], "u-cat": ["g-first"]},
	"designer_groups_of": {"u-dev": ["devs"], "u-nodev": ["devs"]},
	"designer_roles": {
		"users": {
			"u-adm": [{"role": "org_admin", "scope": {"org": true}}],
			"u-wsa": [{"role": "workspace_admin", "scope": {"workspace": "w"}}],
			"u-wso": [{"role": "workspace_admin", "scope": {"workspace": "w-other"}}],
		},
		"groups": {"devs": [{"role": "project_editor", "scope": {"project": "p"}}]},
	},
	"projects": {
		"p": {
			"workspace": "w",
			"builds": {
				"b1": build("main", "2026-01-01T00:00:00.000000000Z", ["User", "Clerk", "Manager"], {
					"home": {"roles": ["User"], "components": {"btn": {"hidden_for": ["User"]}, "panel": {"disabled_for": ["User"]}}},
					"admin": {"roles": ["Manager"]},
				}, procs),
				"b2": build("main", "2026-02-01T00:00:00.000000000Z", ["User", "Clerk", "Manager", "Auditor"], {"home": {"roles": ["User", "Clerk"]}}, procs),
				"b3": build("beta", "2026-03-01T00:00:00.000000000Z", ["User", "Manager"], {"beta": {"roles": ["Manager"]}}, {}),
				# Older, though its id sorts after b3's: created_key decides.
				"b9": build("beta", "2025-12-31T23:59:59.000000000Z", ["User", "Manager"], {}, {}),
			},
			"flow_permissions": {
				"defaults": {"users": {"u-none": "deny"}, "roles": {"AuthenticatedUser": "grant"}},
				"flows": {
					"sync": {"roles": {"Clerk": "grant", "User": "deny"}},
					"mixed": {"users": {"u-ann": "grant"}, "roles": {"User": "deny"}},
					"mine": {"users": {"u-none": "grant"}},
					"locked": {"roles": {"AuthenticatedUser": "deny"}},
				},
			},
			"environments": {
				"prod": {
					"active_policy": {
						"default": {"build": "b2"},
						"username_overrides": {"cat": {"build": "b1"}},
						"group_overrides": {
							"g-ops": {"priority": 5, "policy": {"build": "b1"}},
							"g-beta": {"priority": 1, "policy": {"latest_on_branch": "beta"}},
							"g-first": {"priority": 0, "policy": {"latest_on_branch": "beta"}},
						},
					},
					"shares": {
						"users": {"u-ann": ["Clerk"], "u-off": ["Manager"], "u-cat": ["Auditor"], "u-clerk": ["Clerk"]},
						"groups": {"g-ops": ["User"], "g-beta": ["Manager"]},
					},
				},
				"dev": {
					"active_policy": {"default": {"build": "b-gone"}},
					"shares": {"users": {"u-ann": ["Clerk"]}, "groups": {}},
				},
			},
		},
		"q": {
			"workspace": "w",
			"builds": {"c1": build("main", "2026-01-01T00:00:00.000000000Z", ["User"], {}, {})},
			"environments": {"prod": {"active_policy": {"default": {"build": "c1"}}, "shares": {"users": {"u-none": ["User"]}, "groups": {}}}},
		},
	},
}}

req(user, action, type, id, props, env) := r if {
	res := object.union({"type": type, "id": id}, props)
	r := {"subject": {"type": "user", "id": user}, "action": {"name": action}, "resource": res, "context": {"org": "t", "environment": env}}
}

decide(user, action, type, id, props) := d if {
	d := handwritten.decision.decision with input as req(user, action, type, id, props, "prod")
		with data.verdict_data.orgs as orgs
}

on(p) := {"properties": {"project": p}}

in_flow(f) := {"properties": {"project": "p", "ui_flow": f}}

in_process(pr) := {"properties": {"project": "p", "process": pr}}

# Which build each user is served (username override, group overrides by
# priority, latest on branch by created_key, default).
test_active_policy if {
	served := {u: b |
		some u in ["u-ann", "u-bob", "u-cat", "u-clerk"]
		b := handwritten.build with input as req(u, "access", "solution", "p", {}, "prod") with data.verdict_data.orgs as orgs
	}
	served == {"u-ann": "b1", "u-bob": "b3", "u-cat": "b1", "u-clerk": "b2"}
}

test_solution_access if {
	decide("u-ann", "access", "solution", "p", {}) # shared Clerk, in b1
	decide("u-clerk", "access", "solution", "p", {})
	not decide("u-cat", "access", "solution", "p", {}) # Auditor: not in b1's catalog
	not decide("u-none", "access", "solution", "p", {}) # no share
	not decide("u-off", "access", "solution", "p", {}) # disabled, though shared
	not decide("u-ann", "access", "solution", "nope", {})
	not decide("u-ann", "launch", "solution", "p", {}) # not an action of solutions
	not handwritten.decision.decision with input as req("u-ann", "access", "solution", "p", {}, "dev") # b-gone: nothing served
		with data.verdict_data.orgs as orgs
	not handwritten.decision.decision with input as req("u-ann", "access", "solution", "p", {}, "uat") # no such environment
		with data.verdict_data.orgs as orgs
	not handwritten.decision.decision with input as object.union(req("u-ann", "access", "solution", "p", {}, "prod"), {"subject": {"type": "service"}})
		with data.verdict_data.orgs as orgs
}

test_ui_flow_launch if {
	decide("u-ann", "launch", "ui_flow", "home", on("p")) # User via g-ops
	not decide("u-ann", "launch", "ui_flow", "admin", on("p"))
	not decide("u-ann", "launch", "ui_flow", "beta", on("p")) # not in b1
	decide("u-bob", "launch", "ui_flow", "beta", on("p")) # b3: Manager via g-beta
	not decide("u-bob", "launch", "ui_flow", "home", on("p"))
	not decide("u-ann", "view", "ui_flow", "home", on("p"))
}

test_component_view if {
	not decide("u-ann", "view", "component", "btn", in_flow("home")) # hidden for User
	decide("u-ann", "view", "component", "panel", in_flow("home")) # disabled, still shown
	decide("u-ann", "view", "component", "other", in_flow("home")) # no rule: enabled
	not decide("u-ann", "view", "component", "btn", in_flow("admin")) # not on the allow-list
	not decide("u-ann", "view", "component", "btn", in_flow("ghost"))
}

test_process_and_swimlane if {
	decide("u-ann", "start", "process", "pr", on("p"))
	not decide("u-none", "start", "process", "pr", on("p"))
	not decide("u-ann", "start", "process", "ghost", on("p"))
	decide("u-ann", "view", "swimlane", "s", in_process("pr"))
	not decide("u-ann", "execute", "swimlane", "s", in_process("pr"))
	not decide("u-ann", "view", "swimlane", "ghost", in_process("pr"))
	not decide("u-ann", "start", "swimlane", "s", in_process("pr"))
}

test_flow_run if {
	not decide("u-ann", "run", "flow", "sync", on("p")) # User deny beats Clerk grant
	decide("u-clerk", "run", "flow", "sync", on("p")) # Clerk grant
	not decide("u-ann", "run", "flow", "mixed", on("p")) # a role's deny beats the user's grant
	decide("u-none", "run", "flow", "mine", on("p")) # the user's own grant
	decide("u-clerk", "run", "flow", "other", on("p")) # project defaults: AuthenticatedUser
	not decide("u-none", "run", "flow", "other", on("p")) # project defaults: the user's deny
	decide("u-none", "run", "flow", "any", on("q")) # no permissions at all: allowed
	not decide("u-dev", "run", "flow", "locked", on("p")) # no bypass for automation flows
	not decide("u-off", "run", "flow", "other", on("p"))
	not decide("u-ann", "run", "flow", "sync", on("nope"))
	not handwritten.decision.decision with input as object.remove(req("u-clerk", "run", "flow", "sync", on("p"), "prod"), ["context"])
		with data.verdict_data.orgs as orgs
}

test_designer_bypass if {
	decide("u-dev", "access", "solution", "p", {}) # project_editor via devs, no runtime role; served b2
	decide("u-dev", "launch", "ui_flow", "home", on("p"))
	not decide("u-dev", "launch", "ui_flow", "admin", on("p")) # not in b2
	decide("u-dev", "view", "component", "btn", in_flow("home"))
	decide("u-dev", "start", "process", "pr", on("p"))
	decide("u-dev", "self_assign", "swimlane", "s", in_process("pr"))
	not decide("u-dev", "launch", "ui_flow", "ghost", on("p"))
	not decide("u-dev", "access", "solution", "q", {}) # no designer access there
	not decide("u-nodev", "access", "solution", "p", {}) # access, but not a designerUser
	decide("u-adm", "access", "solution", "q", {}) # org admin
	decide("u-wsa", "access", "solution", "q", {}) # workspace admin of w
	not decide("u-wso", "access", "solution", "q", {}) # admin of another workspace
	not handwritten.decision.decision with input as req("u-dev", "access", "solution", "p", {}, "dev") # nothing served
		with data.verdict_data.orgs as orgs
}
