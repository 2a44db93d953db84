package verdict.main_test

import data.verdict.test.fixture

test_unknown_org if {
	d := fixture.decide({"subject": {"type": "user", "id": "u-ann"}, "action": {"name": "access"}, "resource": {"type": "solution", "id": "p"}, "context": {"org": "zzz", "environment": "prod"}})
	d == {"decision": false, "context": {"reason": "unknown_org"}}
	"organization zzz is unknown" in fixture.explain({"subject": {"type": "user", "id": "u-ann"}, "action": {"name": "access"}, "resource": {"type": "solution", "id": "p"}, "context": {"org": "zzz"}})
}

test_tenancy_same_user_id_other_org if {
	# u-ann exists in "other" too, but p does not
	d := fixture.decide({"subject": {"type": "user", "id": "u-ann"}, "action": {"name": "access"}, "resource": {"type": "solution", "id": "p"}, "context": {"org": "other", "environment": "prod"}})
	d.decision == false
}

test_unknown_type_and_action if {
	fixture.decide(fixture.req("u-ann", "access", "spaceship", "p", {})).context.reason == "unknown_resource_type"
	fixture.decide(fixture.req("u-ann", "fly", "solution", "p", {})).context.reason == "unsupported_action"
	"resource type spaceship is not built in" in fixture.explain(fixture.req("u-ann", "access", "spaceship", "p", {}))
	"action fly is not defined for solution" in fixture.explain(fixture.req("u-ann", "fly", "solution", "p", {}))
}

test_inactive_subject_gated if {
	fixture.decide(fixture.req("u-off", "access", "solution", "p", {})) == {"decision": false, "context": {"reason": "subject_not_active"}}
	"user u-off is disabled" in fixture.explain(fixture.req("u-off", "access", "solution", "p", {}))
	fixture.decide({"action": {"name": "access"}, "resource": {"type": "solution", "id": "p"}, "context": {"org": "t", "environment": "prod"}}).context.reason == "subject_not_active"
}

test_explain_lists_reasons if {
	d := fixture.decide(json.patch(fixture.req("u-ann", "access", "solution", "p", {}), [{"op": "add", "path": "/context/explain", "value": true}]))
	d.decision == true
	d.context.build == "b2"
	count(d.context.reasons) > 0
	some r in d.context.reasons
	r.rule == "active_policy"
}

test_undecided_is_deny if {
	# a built-in type whose package answers nothing (a project without its org data) still denies
	d := data.verdict.main.decision with input as fixture.req("u-ann", "access", "solution", "p", {})
		with data.verdict_data.orgs as {"t": {"users": {"u-ann": {"status": "active"}}}}
	d.decision == false
}
