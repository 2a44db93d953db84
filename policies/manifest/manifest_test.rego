package verdict.manifest_test

import data.verdict.manifest

# A small org of its own, so these tests read as a whole: a project with two
# builds, a group override, a share to a user and to a group, a designer, flow
# permissions at both levels.
orgs := {"m": {
	"org": "m",
	"users": {
		"u-a": {"id": "u-a", "username": "a", "status": "active"},
		"u-b": {"id": "u-b", "username": "b", "status": "active"},
		"u-d": {"id": "u-d", "username": "d", "status": "active", "designer_user": true},
		"u-n": {"id": "u-n", "username": "n", "status": "active"},
		"u-x": {"id": "u-x", "username": "x", "status": "invited"},
	},
	"user_groups": {"u-b": ["Night"]},
	"groups": {"Night": {}},
	"legacy_grants": {},
	"designer_groups_of": {},
	"designer_roles": {"users": {"u-d": [{"role": "project_owner", "scope": {"project": "p"}}]}, "groups": {}},
	"projects": {"p": {
		"workspace": "w",
		"builds": {
			"b1": {
				"branch": "main", "created": "2026-01-01T00:00:00Z", "created_key": "2026-01-01T00:00:00.000000000Z", "roles": ["Clerk", "Boss"],
				"ui_flows": {
					"desk": {"roles": ["Clerk", "Boss"], "components": {
						"approve": {"hidden_for": ["Clerk"]},
						"note": {"disabled_for": ["Clerk"]},
					}},
					"home": {"roles": ["Boss"]},
				},
				"processes": {"claim": {"roles": ["Clerk"], "swimlanes": {
					"intake": {"Clerk": ["view", "execute"], "Boss": ["view"]},
					"sign": {"Boss": ["view", "execute", "self_assign"]},
				}}},
			},
			"b2": {
				"branch": "main", "created": "2026-02-01T00:00:00Z", "created_key": "2026-02-01T00:00:00.000000000Z", "roles": ["Clerk", "Boss"],
				"ui_flows": {"lite": {"roles": ["Boss"]}},
				"processes": {},
			},
		},
		"environments": {"prod": {
			"active_policy": {
				"default": {"build": "b1"},
				"username_overrides": {},
				"group_overrides": {"Night": {"priority": 1, "policy": {"latest_on_branch": "main"}}},
				"role_overrides": {},
			},
			"shares": {"users": {"u-a": ["Clerk"]}, "groups": {"Night": ["Boss"]}},
		}},
		"flow_permissions": {
			"defaults": {"roles": {"NonAuthenticatedUser": "deny"}},
			"flows": {
				"sync": {"roles": {"Clerk": "grant", "AuthenticatedUser": "deny"}},
				"report": {"users": {"u-n": "grant"}},
			},
		},
	}},
	"business_filters": {},
}}

users := {"u-a", "u-b", "u-d", "u-n", "u-x", "u-unknown"}

req(user) := {
	"subject": {"type": "user", "id": user},
	"action": {"name": "access"},
	"resource": {"type": "solution", "id": "p"},
	"context": {"org": "m", "environment": "prod"},
}

manifest_of(user) := m if {
	m := data.verdict.manifest.result with input as req(user) with data.verdict_data.orgs as orgs
}

explained(user) := m if {
	m := data.verdict.manifest.result with input as json.patch(req(user), [{"op": "add", "path": "/context/explain", "value": true}])
		with data.verdict_data.orgs as orgs
}

# single is one decision, asked the usual way.
single(user, resource, action) := d if {
	d := data.verdict.main.decision with input as object.union(req(user), {"resource": resource, "action": {"name": action}})
		with data.verdict_data.orgs as orgs
}

# answers is true when d is the decision with at least the context keys of
# ctx (the entry point may add others, such as a reason code on a deny).
answers(d, decision, ctx) if {
	d.decision == decision
	every k, v in ctx {
		d.context[k] == v
	}
}

test_input_names_org_and_project if {
	manifest.org == "m" with input as req("u-a")
	manifest.project == "p" with input as req("u-a")
}

test_item_resources if {
	manifest.ui_flow("desk") == {"type": "ui_flow", "id": "desk", "properties": {"project": "p"}} with input as req("u-a")
	manifest.component("desk", "note") == {"type": "component", "id": "note", "properties": {"project": "p", "ui_flow": "desk"}} with input as req("u-a")
	manifest.process("claim") == {"type": "process", "id": "claim", "properties": {"project": "p"}} with input as req("u-a")
	manifest.swimlane("claim", "sign") == {"type": "swimlane", "id": "sign", "properties": {"project": "p", "process": "claim"}} with input as req("u-a")
	manifest.flow("sync") == {"type": "flow", "id": "sync", "properties": {"project": "p"}} with input as req("u-a")
	manifest.swimlane_actions == ["view", "execute", "self_assign"]
}

test_ask_replaces_resource_and_action if {
	d := manifest.ask({"type": "ui_flow", "id": "home", "properties": {"project": "p"}}, "launch") with input as req("u-a")
		with data.verdict_data.orgs as orgs
	answers(d, false, {"reason": "no_role_on_allow_list"})
}

test_role_through_a_share if {
	m := manifest_of("u-a")
	answers(m.access, true, {"build": "b1", "rule": "default"})
	answers(m.ui_flows.desk.launch, true, {"build": "b1"})
	count(m.ui_flows.desk.components) == 2
	answers(m.ui_flows.desk.components.approve, false, {"state": "hidden"})
	answers(m.ui_flows.desk.components.note, true, {"state": "disabled"})
	answers(m.ui_flows.desk.other_components, true, {"state": "enabled"})
	answers(m.ui_flows.home.launch, false, {"reason": "no_role_on_allow_list"})
	m.ui_flows.home.components == {}
	answers(m.ui_flows.home.other_components, false, {"state": "hidden"})
	answers(m.processes.claim.start, true, {"build": "b1"})
	count(m.processes.claim.swimlanes.intake) == 3
	answers(m.processes.claim.swimlanes.intake.view, true, {"build": "b1"})
	answers(m.processes.claim.swimlanes.intake.execute, true, {"build": "b1"})
	answers(m.processes.claim.swimlanes.intake.self_assign, false, {"reason": "no_swimlane_right"})
	every a in manifest.swimlane_actions {
		m.processes.claim.swimlanes.sign[a].decision == false
	}

	# The AuthenticatedUser deny beats the Clerk grant; report has no entry
	# for a, and the app-wide deny is for anonymous callers only.
	count(m.flows.listed) == 2
	answers(m.flows.listed.sync, false, {"level": "flow"})
	answers(m.flows.listed.report, true, {"level": "default"})
	answers(m.flows.others, true, {"level": "default"})
}

test_group_override_serves_another_build if {
	m := manifest_of("u-b")
	answers(m.access, true, {"build": "b2", "rule": "group_override"})
	object.keys(m.ui_flows) == {"lite"}
	answers(m.ui_flows.lite.launch, true, {"build": "b2"})
	m.ui_flows.lite.components == {}
	answers(m.ui_flows.lite.other_components, true, {"state": "enabled"})
	m.processes == {}
	manifest.build_id == "b2" with input as req("u-b") with data.verdict_data.orgs as orgs
	manifest.build.ui_flows.lite == {"roles": ["Boss"]} with input as req("u-b") with data.verdict_data.orgs as orgs
}

test_designer_bypass_opens_everything if {
	m := manifest_of("u-d")
	m.access.decision == true
	every _, f in m.ui_flows {
		f.launch.decision == true
		every _, c in f.components {
			answers(c, true, {"state": "enabled"})
		}
	}
	count(m.ui_flows) == 2
	every _, lane in m.processes.claim.swimlanes {
		every _, d in lane {
			d.decision == true
		}
	}

	# The bypass gives no runtime role: the AuthenticatedUser deny stands.
	m.flows.listed.sync.decision == false
}

test_no_access_lists_no_build_items_but_flows if {
	m := manifest_of("u-n")
	answers(m.access, false, {"reason": "no_runtime_role"})
	m.ui_flows == {}
	m.processes == {}
	not manifest.build_id with input as req("u-n") with data.verdict_data.orgs as orgs
	answers(m.flows.listed.report, true, {"level": "flow"})
	answers(m.flows.listed.sync, false, {"level": "flow"})
}

test_inactive_and_unknown_get_nothing if {
	every u in {"u-x", "u-unknown"} {
		m := manifest_of(u)
		answers(m.access, false, {"reason": "subject_not_active"})
		m.ui_flows == {}
		m.processes == {}
		every _, d in m.flows.listed {
			answers(d, false, {"reason": "subject_not_active"})
		}
		answers(m.flows.others, false, {"reason": "subject_not_active"})
	}
}

test_listed_flows if {
	manifest.listed_flows == {"sync", "report"} with input as req("u-a") with data.verdict_data.orgs as orgs
	count(manifest.listed_flows) == 0 with input as req("u-a")
		with data.verdict_data.orgs as json.remove(orgs, ["m/projects/p/flow_permissions"])
}

test_other_id_is_never_one_of_the_ids if {
	manifest.other_id({"a", "b"}) == "*"
	manifest.other_id(set()) == "*"
	manifest.other_id({"*", "a"}) == "**a"
	manifest.other_id({"*", "**a"}) == "****a"
}

test_other_flow_is_never_a_listed_one if {
	starred := json.patch(orgs, [{"op": "add", "path": "/m/projects/p/flow_permissions/flows/*", "value": {"roles": {"Clerk": "deny"}}}])
	m := data.verdict.manifest.result with input as req("u-a") with data.verdict_data.orgs as starred
	answers(m.flows.listed["*"], false, {"level": "flow"})
	answers(m.flows.others, true, {"level": "default"})
}

test_explain_gives_reasons_on_every_item if {
	m := explained("u-a")
	count(m.access.context.reasons) > 0
	every _, f in m.ui_flows {
		count(f.launch.context.reasons) > 0
		every _, c in f.components {
			count(c.context.reasons) > 0
		}
	}
	every _, d in m.flows.listed {
		count(d.context.reasons) > 0
	}
	not manifest_of("u-a").access.context.reasons
}

# The point of the package: every item is the single decision.
test_agrees_with_single_decisions if {
	every u in users {
		m := manifest_of(u)
		m.access == single(u, {"type": "solution", "id": "p"}, "access")
		every f, x in m.ui_flows {
			x.launch == single(u, manifest.ui_flow(f), "launch") with input as req(u)
			every c, d in x.components {
				d == single(u, manifest.component(f, c), "view") with input as req(u)
			}
			x.other_components == single(u, manifest.component(f, "undescribed"), "view") with input as req(u)
		}
		every p, x in m.processes {
			x.start == single(u, manifest.process(p), "start") with input as req(u)
			every s, lane in x.swimlanes {
				every a, d in lane {
					d == single(u, manifest.swimlane(p, s), a) with input as req(u)
				}
			}
		}
		every f, d in m.flows.listed {
			d == single(u, manifest.flow(f), "run") with input as req(u)
		}
		m.flows.others == single(u, manifest.flow("not-listed"), "run") with input as req(u)
	}
}
