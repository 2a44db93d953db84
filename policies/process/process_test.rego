package verdict.process_test

import data.verdict.test.fixture

# leg is served b1; give leg roles through a patched share.
with_roles(roles) := json.patch(fixture.orgs, [{"op": "add", "path": "/t/projects/p/environments/prod/shares/users/u-leg", "value": roles}])

start(orgs, user) := d if {
	d := data.verdict.main.decision with input as fixture.req(user, "start", "process", "claim", {"project": "p"}) with data.verdict_data.orgs as orgs
}

lane(orgs, user, action, lane) := d if {
	d := data.verdict.main.decision with input as fixture.req(user, action, "swimlane", lane, {"project": "p", "process": "claim"}) with data.verdict_data.orgs as orgs
}

test_start_needs_role_on_list if {
	start(with_roles(["Agent"]), "u-leg").decision == true
	start(with_roles(["Boss"]), "u-leg") == {"decision": false, "context": {"reason": "no_role_on_process"}}
	"no role of the subject may start process claim (Agent)" in fixture.explain(fixture.req("u-leg", "start", "process", "claim", {"project": "p"}))
}

test_start_reason if {
	x := {r.message | some r in data.verdict.main.decision.context.reasons} with input as json.patch(fixture.req("u-leg", "start", "process", "claim", {"project": "p"}), [{"op": "add", "path": "/context/explain", "value": true}])
		with data.verdict_data.orgs as with_roles(["Agent"])
	"role Agent may start process claim" in x
}

test_swimlane_union_of_roles if {
	o := with_roles(["Agent", "Boss"])
	lane(o, "u-leg", "execute", "intake").decision == true
	lane(o, "u-leg", "self_assign", "sign").decision == true
	lane(o, "u-leg", "self_assign", "intake") == {"decision": false, "context": {"reason": "no_swimlane_right"}}
}

test_swimlane_independent_of_start if {
	# Boss may not start claim but views intake
	lane(with_roles(["Boss"]), "u-leg", "view", "intake").decision == true
}

test_swimlane_reasons if {
	x := {r.message | some r in data.verdict.main.decision.context.reasons} with input as json.patch(fixture.req("u-leg", "view", "swimlane", "intake", {"project": "p", "process": "claim"}), [{"op": "add", "path": "/context/explain", "value": true}])
		with data.verdict_data.orgs as with_roles(["Boss"])
	"role Boss has view on swimlane intake" in x
	"no role of the subject has execute on swimlane sign" in fixture.explain(fixture.req("u-leg", "execute", "swimlane", "sign", {"project": "p", "process": "claim"}))
}

test_unknown_process_and_swimlane if {
	start(fixture.orgs, "u-dev") == {"decision": true, "context": {"build": "b1"}}
	x := fixture.decide(fixture.req("u-dev", "start", "process", "nope", {"project": "p"}))
	x.context.reason == "unknown_process"
	"build b1 has no process nope" in fixture.explain(fixture.req("u-dev", "start", "process", "nope", {"project": "p"}))
	"build b1 has no process nope" in fixture.explain(fixture.req("u-dev", "view", "swimlane", "intake", {"project": "p", "process": "nope"}))
	y := fixture.decide(fixture.req("u-dev", "view", "swimlane", "nope", {"project": "p", "process": "claim"}))
	y.context.reason == "unknown_swimlane"
	"process claim of build b1 has no swimlane nope" in fixture.explain(fixture.req("u-dev", "view", "swimlane", "nope", {"project": "p", "process": "claim"}))
	fixture.decide(fixture.req("u-dev", "view", "swimlane", "intake", {"project": "zzz", "process": "claim"})).context.reason == "unknown_project"
}

test_bypass_all_swimlane_rights if {
	every a in {"view", "execute", "self_assign"} {
		lane(fixture.orgs, "u-dev", a, "sign").decision == true
	}
}
