package verdict.bypass_test

import data.verdict.test.fixture

test_designer_group_gives_bypass if {
	d := fixture.decide(fixture.req("u-dev", "access", "solution", "p", {}))
	d.decision == true
	d.context.build == "b1"
	"designer bypass: designerUser with project_editor on project p via group devs" in fixture.explain(fixture.req("u-dev", "access", "solution", "p", {}))
}

test_org_admin_bypass_any_project if {
	fixture.decide(fixture.req("u-adm", "access", "solution", "r", {})).decision == true
}

test_no_designer_user_no_bypass if {
	# wsa is workspace_admin of w (designer access) but not a designer user
	fixture.decide(fixture.req("u-wsa", "access", "solution", "p", {})).decision == false
	"designer access but no designerUser attribute: no bypass" in fixture.explain(fixture.req("u-wsa", "access", "solution", "p", {}))
}

test_designer_without_access_to_project if {
	# dev has designer access to p only
	fixture.decide(fixture.req("u-dev", "access", "solution", "q", {})).decision == false
}

test_disabled_designer_gets_nothing if {
	fixture.decide(fixture.req("u-off", "access", "solution", "p", {})).decision == false
}

test_token_claim_overrides_record if {
	# wsa's token says designerUser: bypass applies
	orgs := json.patch(fixture.orgs, [{"op": "add", "path": "/t/verified_token", "value": {"subject": "u-wsa", "designer_user": true}}])
	d := data.verdict.main.decision with input as fixture.req("u-wsa", "access", "solution", "p", {}) with data.verdict_data.orgs as orgs
	d.decision == true

	# and dev's token says not a designer: no bypass
	orgs2 := json.patch(fixture.orgs, [{"op": "add", "path": "/t/verified_token", "value": {"subject": "u-dev", "designer_user": false}}])
	d2 := data.verdict.main.decision with input as fixture.req("u-dev", "access", "solution", "p", {}) with data.verdict_data.orgs as orgs2
	d2.decision == false
}
