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
