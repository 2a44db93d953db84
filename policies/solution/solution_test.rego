package verdict.solution_test

import data.verdict.test.fixture

access(user, env) := fixture.decide(object.union(fixture.req(user, "access", "solution", "p", {}), {"context": {"environment": env}}))

test_served_build_and_rule if {
	access("u-ann", "prod") == {"decision": true, "context": {"build": "b2", "rule": "username_override"}}
	access("u-leg", "prod") == {"decision": true, "context": {"build": "b1", "rule": "default"}}
}

test_no_role_no_access if {
	access("u-wsu", "prod") == {"decision": false, "context": {"reason": "no_runtime_role"}}
}

test_blocked_reasons if {
	access("u-ann", "dev").context.reason == "no_build_served"
	access("u-ann", "bare").context.reason == "no_active_policy"
	access("u-ann", "nowhere").context.reason == "no_active_policy"
	fixture.decide(fixture.req("u-ann", "access", "solution", "zzz", {})).context.reason == "unknown_project"
	fixture.decide({"subject": {"type": "user", "id": "u-ann"}, "action": {"name": "access"}, "resource": {"type": "solution", "id": "p"}, "context": {"org": "t"}}).context.reason == "environment_required"
}
