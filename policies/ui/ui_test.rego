package verdict.ui_test

import data.verdict.test.fixture

launch(user, flow) := fixture.decide(fixture.req(user, "launch", "ui_flow", flow, {"project": "p"}))

comp(user, c) := fixture.decide(fixture.req(user, "view", "component", c, {"project": "p", "ui_flow": "desk"}))

comp_in(orgs, c) := d if {
	d := data.verdict.main.decision with input as fixture.req("u-leg", "view", "component", c, {"project": "p", "ui_flow": "desk"}) with data.verdict_data.orgs as orgs
}

test_launch_by_role if {
	# leg: legacy Basic on b1; home allows Basic
	launch("u-leg", "home") == {"decision": true, "context": {"build": "b1"}}
	"role Basic is on the allow-list of UI flow home" in fixture.explain(fixture.req("u-leg", "launch", "ui_flow", "home", {"project": "p"}))
}

test_launch_not_on_allow_list if {
	launch("u-leg", "desk") == {"decision": false, "context": {"reason": "no_role_on_allow_list"}}
	"no role of the subject is on the allow-list of UI flow desk (Agent, Boss)" in fixture.explain(fixture.req("u-leg", "launch", "ui_flow", "desk", {"project": "p"}))
}

test_launch_unknown_flow if {
	launch("u-leg", "nope").context.reason == "unknown_ui_flow"
	"build b1 has no UI flow nope" in fixture.explain(fixture.req("u-leg", "launch", "ui_flow", "nope", {"project": "p"}))
}

test_launch_blocked_by_project if {
	fixture.decide(fixture.req("u-leg", "launch", "ui_flow", "home", {"project": "zzz"})).context.reason == "unknown_project"
}

test_launch_by_bypass if {
	launch("u-dev", "desk").decision == true
}

test_component_most_permissive if {
	# ben is not served b1 (Pilot override -> b3); use a share on b1 via Staff: u-off is disabled.
	# ann's dev env serves nothing; build a direct case: Agent and Boss via Staff for a user served b1.
	orgs := json.patch(fixture.orgs, [{"op": "add", "path": "/t/user_groups/u-leg", "value": ["Staff"]}])
	comp_in(orgs, "approve") == {"decision": true, "context": {"state": "enabled"}}
	comp_in(orgs, "export") == {"decision": true, "context": {"state": "enabled"}}
	comp_in(orgs, "secret") == {"decision": false, "context": {"reason": "component_hidden", "state": "hidden"}}
	comp_in(orgs, "both") == {"decision": true, "context": {"state": "disabled"}}
	comp_in(orgs, "unnamed") == {"decision": true, "context": {"state": "enabled"}}
}

test_component_single_role if {
	# leg with only an Agent share on prod, served b1
	orgs := json.patch(fixture.orgs, [{"op": "add", "path": "/t/projects/p/environments/prod/shares/users/u-leg", "value": ["Agent"]}])
	comp_in(orgs, "approve").context.state == "hidden"
	comp_in(orgs, "export").context.state == "disabled"
	comp_in(orgs, "both").context.state == "hidden"
	x := {r.message | some r in data.verdict.main.decision.context.reasons} with input as json.patch(fixture.req("u-leg", "view", "component", "export", {"project": "p", "ui_flow": "desk"}), [{"op": "add", "path": "/context/explain", "value": true}])
		with data.verdict_data.orgs as orgs
	"component export is disabled for role Agent" in x
}

test_component_of_unlaunchable_flow_hidden if {
	comp("u-leg", "approve") == {"decision": false, "context": {"reason": "component_hidden", "state": "hidden"}}
	"UI flow desk cannot be launched: component hidden" in fixture.explain(fixture.req("u-leg", "view", "component", "approve", {"project": "p", "ui_flow": "desk"}))
}

test_component_bypass_enabled if {
	comp("u-dev", "secret") == {"decision": true, "context": {"state": "enabled"}}
	"component secret is enabled by the designer bypass" in fixture.explain(fixture.req("u-dev", "view", "component", "secret", {"project": "p", "ui_flow": "desk"}))
}

test_component_blocked_says_why if {
	comp_in(fixture.orgs, "approve") == {"decision": false, "context": {"reason": "component_hidden", "state": "hidden"}}
	d := fixture.decide(fixture.req("u-dev", "view", "component", "approve", {"project": "p", "ui_flow": "nope"}))
	d == {"decision": false, "context": {"reason": "unknown_ui_flow", "state": "hidden"}}
}

# A bypass allow does not say that no role is on the allow-list: an
# explanation never contradicts the answer.
test_bypass_launch_explained_without_contradiction if {
	launch("u-dev", "desk").decision == true
	not "no role of the subject is on the allow-list of UI flow desk (Agent, Boss)" in fixture.explain(fixture.req("u-dev", "launch", "ui_flow", "desk", {"project": "p"}))
	"no role of the subject is on the allow-list of UI flow desk (Agent, Boss)" in fixture.explain(fixture.req("u-leg", "launch", "ui_flow", "desk", {"project": "p"}))
}
