package verdict.served_test

import data.verdict.test.fixture

at(user, env) := {"subject": {"type": "user", "id": user}, "action": {"name": "access"}, "resource": {"type": "solution", "id": "p"}, "context": {"org": "t", "environment": env}}

summary(user, env) := s if {
	s := data.verdict.served.summary with input as at(user, env) with data.verdict_data.orgs as fixture.orgs
}

# with_summary puts a summary beside the fixture's facts, as the central PDP
# does.
with_summary(s) := json.patch(fixture.orgs, [{"op": "add", "path": "/t/served", "value": s}])

test_summary_of_a_served_user if {
	summary("u-ann", "prod") == {
		"subject": "u-ann", "project": "p", "environment": "prod",
		"roles": ["Agent"], "bypass": false, "build_id": "b2",
		"selection": {"rule": "username_override", "policy": {"build": "b2"}, "username": "ann"},
	}
}

test_summary_without_a_build if {
	s := summary("u-ann", "dev")
	s.selection.rule == "default"
	not s.build_id
	s.roles == []
	summary("u-ann", "bare") == {"subject": "u-ann", "project": "p", "environment": "bare", "roles": [], "bypass": false}
}

test_summary_of_the_bypass if {
	summary("u-dev", "prod").bypass == true
}

test_no_summary_without_project_or_environment if {
	summary("u-ann", "nowhere") == {"subject": "u-ann", "project": "p", "environment": "nowhere", "roles": [], "bypass": false}
	s := data.verdict.served.summary with input as fixture.req("u-ann", "access", "solution", "zzz", {}) with data.verdict_data.orgs as fixture.orgs
	s == null
}

# Decisions read a kept summary back: the same answers as computing it,
# every concern, explanations included.
test_decisions_read_the_summary if {
	every req in [
		fixture.req("u-ann", "access", "solution", "p", {}),
		fixture.req("u-ann", "launch", "ui_flow", "home", {"project": "p"}),
		fixture.req("u-ben", "launch", "ui_flow", "beta", {"project": "p"}),
		fixture.req("u-dev", "view", "component", "secret", {"project": "p", "ui_flow": "desk"}),
		fixture.req("u-dev", "execute", "swimlane", "sign", {"project": "p", "process": "claim"}),
		fixture.req("u-ann", "run", "flow", "sync", {"project": "p"}),
	] {
		plain := fixture.decide(req)
		s := data.verdict.served.summary with input as req with data.verdict_data.orgs as fixture.orgs
		kept := data.verdict.main.decision with input as req with data.verdict_data.orgs as with_summary(s)
		kept == plain
		ex := object.union(req, {"context": object.union(req.context, {"explain": true})})
		kept_ex := data.verdict.main.decision with input as ex with data.verdict_data.orgs as with_summary(s)
		kept_ex == fixture.decide(ex)
	}
}

# A summary of another subject, project or environment is never read: it is
# as if there were none.
test_summary_of_another_scope_is_ignored if {
	s := summary("u-dev", "prod")
	req := fixture.req("u-leg", "launch", "ui_flow", "desk", {"project": "p"})
	d := data.verdict.main.decision with input as req with data.verdict_data.orgs as with_summary(s)
	d == fixture.decide(req)
	d.decision == false
}

# What a summary says is what decisions use (it is trusted as facts are).
test_summary_decides if {
	s := {"subject": "u-leg", "project": "p", "environment": "prod", "roles": ["Agent", "Boss"], "bypass": false, "build_id": "b1", "selection": {"rule": "default", "policy": {"build": "b1"}}}
	d := data.verdict.main.decision with input as fixture.req("u-leg", "launch", "ui_flow", "desk", {"project": "p"}) with data.verdict_data.orgs as with_summary(s)
	d == {"decision": true, "context": {"build": "b1"}}
}
