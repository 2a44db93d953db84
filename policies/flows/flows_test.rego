package verdict.flows_test

import data.verdict.test.fixture

run(user, flow) := fixture.decide(fixture.req(user, "run", "flow", flow, {"project": "p"})).decision

anon(flow) := fixture.decide({"subject": {"type": "anonymous", "id": "anonymous"}, "action": {"name": "run"}, "resource": {"type": "flow", "id": flow, "properties": {"project": "p"}}, "context": {"org": "t", "environment": "prod"}}).decision

test_user_deny_beats_role_grant if {
	# ben: own deny on sync; Agent grant does not lift it
	not run("u-ben", "sync")
}

test_user_grant if {
	run("u-ann", "sync")
	"flow entry for user u-ann on flow sync: grant" in fixture.explain(fixture.req("u-ann", "run", "flow", "sync", {"project": "p"}))
}

test_authenticated_user_deny_beats_grant if {
	not run("u-ann", "night")
	"a deny is never overridden by a grant at the same level, nor by the designer bypass" in fixture.explain(fixture.req("u-ann", "run", "flow", "night", {"project": "p"}))
}

test_bypass_does_not_lift_deny if {
	not run("u-dev", "night")
}

test_app_wide_entries if {
	# leg has an app-wide user deny and no flow-level entry on "other"
	not run("u-leg", "other")
	"app-wide entry for user u-leg on flow other: deny" in fixture.explain(fixture.req("u-leg", "run", "flow", "other", {"project": "p"}))
}

test_flow_entry_not_applying_falls_to_app_wide if {
	# open grants Basic only; dev (bypass, no roles) has no applying entry, nothing app-wide: allowed
	run("u-dev", "open")
	"no entry applies to flow open: allowed by default" in fixture.explain(fixture.req("u-dev", "run", "flow", "open", {"project": "p"}))
}

test_role_deny_app_wide if {
	orgs := json.patch(fixture.orgs, [{"op": "add", "path": "/t/projects/p/environments/prod/shares/users/u-cat", "value": ["Boss"]}])
	d := data.verdict.main.decision with input as fixture.req("u-cat", "run", "flow", "other", {"project": "p"}) with data.verdict_data.orgs as orgs
	# cat is served b2 (Canary) which has no Boss: the Boss deny does not reach her
	d.decision == true
}

test_anonymous if {
	not anon("other")
	anon("ping")
	not fixture.decide({"action": {"name": "run"}, "resource": {"type": "flow", "id": "other", "properties": {"project": "p"}}, "context": {"org": "t", "environment": "prod"}}).decision
}

test_inactive_and_unknown if {
	not run("u-off", "open")
	not run("u-nobody", "open")
	fixture.decide(fixture.req("u-inv", "run", "flow", "open", {"project": "p"})).context.reason == "subject_not_active"
}

test_blocked if {
	fixture.decide(fixture.req("u-ann", "run", "flow", "open", {"project": "zzz"})).context.reason == "unknown_project"
	fixture.decide({"subject": {"type": "user", "id": "u-ann"}, "action": {"name": "run"}, "resource": {"type": "flow", "id": "open", "properties": {"project": "p"}}, "context": {"org": "t"}}).context.reason == "environment_required"
}
