package verdict.active_policy_test

import data.verdict.active_policy as ap
import data.verdict.test.fixture

in_env(user, env) := {"subject": {"type": "user", "id": user}, "resource": {"type": "solution", "id": "p"}, "context": {"org": "t", "environment": env}}

served(user, env) := x if {
	x := [ap.selection.rule, ap.build_id] with input as in_env(user, env) with data.verdict_data.orgs as fixture.orgs
}

build_of(user, env) := x if {
	x := ap.build_id with input as in_env(user, env) with data.verdict_data.orgs as fixture.orgs
}

texts(user, env) := x if {
	x := {r.message | some r in ap.reasons} with input as in_env(user, env) with data.verdict_data.orgs as fixture.orgs
}

test_username_override_wins if {
	served("u-ann", "prod") == ["username_override", "b2"]
	"username override for ann serves build b2" in texts("u-ann", "prod")
}

test_default if {
	served("u-leg", "prod") == ["default", "b1"]
	"default active policy serves build b1" in texts("u-leg", "prod")
}

test_lowest_priority_group_wins if {
	# cat is in Pilot (5, beta) and Canary (1, latest on main = b2)
	served("u-cat", "prod") == ["group_override", "b2"]
	"group override for Canary (priority 1) serves build b2" in texts("u-cat", "prod")
}

test_latest_on_branch if {
	# ben is in Pilot only among overridden groups: newest on beta is b3
	served("u-ben", "prod") == ["group_override", "b3"]
}

test_role_override_never_used if {
	# ann's Agent share would match the deprecated Agent role override; ben too
	served("u-leg", "prod")[1] != "b3"
	"role override for Agent is deprecated and ignored" in texts("u-leg", "prod")
}

test_empty_branch_serves_nothing if not build_of("u-ann", "dev")

test_empty_branch_reason if {
	"active policy (default) names no existing build: nothing is served" in texts("u-ann", "dev")
}

test_no_active_policy if {
	"project p has no active policy in environment bare" in texts("u-ann", "bare")
}

# Builds dated outside the int64-nanosecond range (1677-2262) are compared
# like any other, by created_key: the newest is served, and a branch whose
# only build is dated 0001 still serves it.
extreme_builds := {
	"z0": {"branch": "main", "created": "0001-01-01T00:00:00Z", "created_key": "0001-01-01T00:00:00.000000000Z", "roles": ["Basic"], "ui_flows": {}, "processes": {}},
	"z1": {"branch": "main", "created": "2026-01-01T00:00:00Z", "created_key": "2026-01-01T00:00:00.000000000Z", "roles": ["Basic"], "ui_flows": {}, "processes": {}},
	"z2": {"branch": "main", "created": "2300-01-01T00:00:00Z", "created_key": "2300-01-01T00:00:00.000000000Z", "roles": ["Basic"], "ui_flows": {}, "processes": {}},
	"old": {"branch": "beta", "created": "0001-01-01T00:00:00Z", "created_key": "0001-01-01T00:00:00.000000000Z", "roles": ["Basic"], "ui_flows": {}, "processes": {}},
}

served_with_builds(user, bs) := x if {
	x := ap.build_id with input as in_env(user, "prod")
		with data.verdict_data.orgs as fixture.orgs
		with data.verdict_data.orgs.t.projects.p.builds as bs
}

test_latest_on_branch_after_2262 if served_with_builds("u-cat", extreme_builds) == "z2"

test_latest_on_branch_before_1677 if served_with_builds("u-ben", extreme_builds) == "old"

# Ties on created_key: the greatest build id.
test_latest_on_branch_tie if {
	bs := {
		"a": {"branch": "main", "created_key": "2026-01-01T00:00:00.000000000Z", "roles": []},
		"c": {"branch": "main", "created_key": "2026-01-01T00:00:00.000000000Z", "roles": []},
		"b": {"branch": "main", "created_key": "2026-01-01T00:00:00.000000000Z", "roles": []},
	}
	served_with_builds("u-cat", bs) == "c"
}

# The index keeps one override per group: the lowest priority number when an
# org document lists several (groups A 1, B 2, A 3 index as A 1, B 2). cat
# is in Pilot and Canary: the lower of the two indexed priorities wins.
test_lowest_indexed_priority_wins if {
	x := [ap.selection.rule, ap.selection.group, ap.build_id] with input as in_env("u-cat", "prod")
		with data.verdict_data.orgs as fixture.orgs
		with data.verdict_data.orgs.t.projects.p.environments.prod.active_policy.group_overrides as {
			"Pilot": {"priority": 2, "policy": {"build": "b1"}},
			"Canary": {"priority": 1, "policy": {"latest_on_branch": "beta"}},
		}
	x == ["group_override", "Canary", "b3"]
}
