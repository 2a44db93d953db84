package verdict.search_test

import data.verdict.search
import data.verdict.test.fixture

found(user, rtype, props) := r if {
	r := search.resources with input as {"subject": {"type": "user", "id": user}, "action": {"name": action_of[rtype]}, "resource": {"type": rtype, "properties": props}, "context": {"org": "t", "environment": "prod"}}
		with data.verdict_data.orgs as fixture.orgs
}

action_of := {"ui_flow": "launch", "process": "start", "component": "view", "swimlane": "execute", "flow": "run", "solution": "access", "org": "org_runtime_users_read"}

test_ui_flows_of_the_served_build if {
	found("u-leg", "ui_flow", {"project": "p"}) == ["home"]
	found("u-dev", "ui_flow", {"project": "p"}) == ["desk", "home"]
}

test_processes_components_swimlanes if {
	found("u-dev", "process", {"project": "p"}) == ["claim"]
	found("u-leg", "process", {"project": "p"}) == []
	found("u-dev", "component", {"project": "p", "ui_flow": "desk"}) == ["approve", "both", "export", "secret"]
	found("u-dev", "swimlane", {"project": "p", "process": "claim"}) == ["intake", "sign"]
}

test_flows_and_solutions if {
	found("u-ben", "flow", {"project": "p"}) == ["open", "ping"]
	found("u-leg", "solution", {"project": "p"}) == []
	found("u-adm", "org", {}) == ["t"]
}

test_actions if {
	a := search.actions with input as {"subject": {"type": "user", "id": "u-own"}, "resource": {"type": "project", "id": "p"}, "context": {"org": "t"}}
		with data.verdict_data.orgs as fixture.orgs
	a == ["edit", "manage_access", "read"]
}
