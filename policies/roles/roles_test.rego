package verdict.roles_test

import data.verdict.roles
import data.verdict.test.fixture

at(user, env) := {"subject": {"type": "user", "id": user}, "resource": {"type": "solution", "id": "p"}, "context": {"org": "t", "environment": env}}

roles_of(user, env) := x if {
	x := roles.roles with input as at(user, env) with data.verdict_data.orgs as fixture.orgs
}

texts(user, env) := x if {
	x := {r.message | some r in roles.reasons} with input as at(user, env) with data.verdict_data.orgs as fixture.orgs
}

test_user_share if {
	# ann is served b2 (Basic, Agent): her Agent share counts
	roles_of("u-ann", "prod") == {"Agent"}
	"role Agent shared to user u-ann on p/prod" in texts("u-ann", "prod")
}

test_group_shares_union if {
	# ben: Staff (Agent, Boss) and Pilot (Basic); Pilot's override serves b3 (Basic only)
	roles_of("u-ben", "prod") == {"Basic"}
	"role Basic shared to group Pilot on p/prod" in texts("u-ben", "prod")
	"role Boss is granted but build b3 does not list it: it grants nothing" in texts("u-ben", "prod")
}

test_legacy_grant_within_catalog if {
	roles_of("u-leg", "prod") == {"Basic"}
	"role Basic from a legacy (5.1) grant to user u-leg" in texts("u-leg", "prod")
}

test_inactive_users_have_no_roles if {
	roles_of("u-off", "prod") == set()
	roles_of("u-inv", "prod") == set()
}

test_shares_are_per_environment if {
	# nothing is served in dev (empty branch): no catalog, no roles
	roles_of("u-ann", "dev") == set()
}
