# A small organization in the indexed decision-data shape, shared by the policy
# tests. It is test data only: bundles never include _test.rego files.
package verdict.test.fixture

org := {
	"org": "t",
	"users": {
		"u-ann": {"id": "u-ann", "username": "ann", "status": "active", "attributes": {"region": ["eu"]}},
		"u-ben": {"id": "u-ben", "username": "ben", "status": "active"},
		"u-cat": {"id": "u-cat", "username": "cat", "status": "active"},
		"u-dev": {"id": "u-dev", "username": "dev", "status": "active", "designer_user": true},
		"u-off": {"id": "u-off", "username": "off", "status": "disabled", "designer_user": true},
		"u-inv": {"id": "u-inv", "username": "inv", "status": "invited"},
		"u-own": {"id": "u-own", "username": "own", "status": "active", "designer_user": true},
		"u-adm": {"id": "u-adm", "username": "adm", "status": "active", "designer_user": true},
		"u-wsa": {"id": "u-wsa", "username": "wsa", "status": "active"},
		"u-ops": {"id": "u-ops", "username": "ops", "status": "active"},
		"u-thm": {"id": "u-thm", "username": "thm", "status": "active"},
		"u-wsu": {"id": "u-wsu", "username": "wsu", "status": "active", "designer_user": true},
		"u-leg": {"id": "u-leg", "username": "leg", "status": "active"},
	},
	"user_groups": {
		"u-ben": ["Staff", "Pilot"],
		"u-cat": ["Pilot", "Canary"],
		"u-off": ["Staff"],
	},
	"groups": {
		"Staff": {"attributes": {"region": ["us", "ca"], "dept": ["ops"]}},
		"Pilot": {},
		"Canary": {},
	},
	"legacy_grants": {"u-leg": ["Basic", "Gone"]},
	"designer_groups_of": {"u-dev": ["devs"]},
	"designer_roles": {
		"users": {
			"u-own": [{"role": "project_owner", "scope": {"project": "p"}}],
			"u-adm": [{"role": "org_admin", "scope": {"org": true}}],
			"u-wsa": [{"role": "workspace_admin", "scope": {"workspace": "w"}}],
			"u-ops": [{"role": "workspace_runtime_editor", "scope": {"workspace": "w"}}],
			"u-thm": [{"role": "theme_editor", "scope": {"workspace": "w"}}],
			"u-wsu": [{"role": "workspace_user", "scope": {"workspace": "w"}}],
			"u-off": [{"role": "org_owner", "scope": {"org": true}}],
		},
		"groups": {
			"devs": [{"role": "project_editor", "scope": {"project": "p"}}],
			"all_users_w": [{"role": "project_viewer", "scope": {"project": "q"}}],
		},
	},
	"projects": {
		"p": {
			"workspace": "w",
			"builds": {
				"b1": {
					"branch": "main", "created": "2026-01-01T00:00:00Z", "created_key": "2026-01-01T00:00:00.000000000Z",
					"roles": ["Basic", "Agent", "Boss"],
					"ui_flows": {
						"home": {"roles": ["Basic", "Agent"]},
						"desk": {"roles": ["Agent", "Boss"], "components": {
							"approve": {"hidden_for": ["Agent"]},
							"export": {"disabled_for": ["Agent"]},
							"secret": {"hidden_for": ["Agent", "Boss"]},
							"both": {"hidden_for": ["Agent"], "disabled_for": ["Agent", "Boss"]},
						}},
					},
					"processes": {"claim": {"roles": ["Agent"], "swimlanes": {
						"intake": {"Agent": ["view", "execute"], "Boss": ["view"]},
						"sign": {"Boss": ["view", "execute", "self_assign"]},
					}}},
				},
				"b2": {
					"branch": "main", "created": "2026-02-01T00:00:00Z", "created_key": "2026-02-01T00:00:00.000000000Z",
					"roles": ["Basic", "Agent"],
					"ui_flows": {"home": {"roles": ["Basic"]}},
					"processes": {},
				},
				"b3": {
					"branch": "beta", "created": "2026-03-01T00:00:00Z", "created_key": "2026-03-01T00:00:00.000000000Z",
					"roles": ["Basic"],
					"ui_flows": {"beta": {"roles": ["Basic"]}},
					"processes": {},
				},
			},
			"environments": {
				"prod": {
					"active_policy": {
						"default": {"build": "b1"},
						"username_overrides": {"ann": {"build": "b2"}},
						"group_overrides": {
							"Pilot": {"priority": 5, "policy": {"latest_on_branch": "beta"}},
							"Canary": {"priority": 1, "policy": {"latest_on_branch": "main"}},
						},
						"role_overrides": {"Agent": {"priority": 9, "policy": {"build": "b3"}}},
					},
					"shares": {
						"users": {"u-ann": ["Agent"], "u-off": ["Agent"], "u-inv": ["Agent"]},
						"groups": {"Staff": ["Agent", "Boss"], "Pilot": ["Basic"]},
					},
				},
				"dev": {"active_policy": {"default": {"latest_on_branch": "nope"}}, "shares": {"users": {"u-ann": ["Agent"]}}},
				"bare": {"shares": {"users": {"u-ann": ["Agent"]}}},
			},
			"flow_permissions": {
				"defaults": {"users": {"u-leg": "deny"}, "roles": {"NonAuthenticatedUser": "deny", "Boss": "deny"}},
				"flows": {
					"sync": {"users": {"u-ann": "grant", "u-ben": "deny"}, "roles": {"Agent": "grant"}},
					"night": {"roles": {"AuthenticatedUser": "deny", "Agent": "grant"}},
					"ping": {"roles": {"NonAuthenticatedUser": "grant"}},
					"open": {"roles": {"Basic": "grant"}},
				},
			},
		},
		"q": {
			"workspace": "w",
			"builds": {"c1": {"branch": "main", "created": "2026-01-01T00:00:00Z", "created_key": "2026-01-01T00:00:00.000000000Z", "roles": ["Basic"], "ui_flows": {"view": {"roles": ["Basic"]}}, "processes": {}}},
			"environments": {"prod": {"active_policy": {"default": {"build": "c1"}}, "shares": {}}},
		},
		"r": {
			"workspace": "x",
			"builds": {"r1": {"branch": "main", "created": "2026-01-01T00:00:00Z", "created_key": "2026-01-01T00:00:00.000000000Z", "roles": ["Basic"], "ui_flows": {}, "processes": {}}},
			"environments": {"prod": {"active_policy": {"default": {"build": "r1"}}, "shares": {}}},
		},
	},
	"business_filters": {"by_region": {"field": "t.region", "attribute": "region"}},
}

orgs := {"t": org, "other": {"org": "other", "users": {"u-ann": {"id": "u-ann", "username": "ann", "status": "active"}}}}

# req builds an AuthZEN request in org t, environment prod.
req(user, action, rtype, rid, props) := {
	"subject": {"type": "user", "id": user},
	"action": {"name": action},
	"resource": {"type": rtype, "id": rid, "properties": props},
	"context": {"org": "t", "environment": "prod"},
}

# decide evaluates the entry point on req against the fixture orgs.
decide(req) := d if {
	d := data.verdict.main.decision with input as req with data.verdict_data.orgs as orgs
}

# explain evaluates req with explain on and returns the reason messages.
explain(req) := {r.message | some r in d.context.reasons} if {
	d := decide(object.union(req, {"context": object.union(req.context, {"explain": true})}))
}
