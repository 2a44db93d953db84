package verdict.main_ext_test

import data.verdict.test.fixture

# A tiny extension, as a policy author would write one.
ext := {"ticket": {
	"decision": true,
	"resources": [{"id": "t1"}, {"id": "t2"}],
	"actions": ["read", "close"],
	"subjects": {"service": [{"id": "svc-a"}, {"id": "svc-b"}]},
}}

req(sub, action, id) := {"subject": sub, "action": {"name": action}, "resource": {"type": "ticket", "id": id}, "context": {"org": "t"}}

test_extension_boolean_decision if {
	d := data.verdict.main.decision with input as req({"type": "user", "id": "u-ann"}, "read", "t1")
		with data.verdict_data.orgs as fixture.orgs
		with data.verdict.ext as ext
	d == {"decision": true, "context": {}}
}

test_extension_object_decision if {
	e := {"ticket": {"decision": {"decision": false, "context": {"why": "closed"}}}}
	d := data.verdict.main.decision with input as req({"type": "service", "id": "svc-a"}, "read", "t1")
		with data.verdict_data.orgs as fixture.orgs
		with data.verdict.ext as e
	d == {"decision": false, "context": {"reason": "extension_denied", "why": "closed"}}
}

test_extension_undefined_is_false if {
	e := {"ticket": {"resources": []}}
	d := data.verdict.main.decision with input as req({"type": "service", "id": "svc-a"}, "read", "t1")
		with data.verdict_data.orgs as fixture.orgs
		with data.verdict.ext as e
	d == {"decision": false, "context": {"reason": "extension_undefined"}}
}

test_extension_rule_one_holds if {
	d := data.verdict.main.decision with input as req({"type": "user", "id": "u-off"}, "read", "t1")
		with data.verdict_data.orgs as fixture.orgs
		with data.verdict.ext as ext
	d.context.reason == "subject_not_active"
	x := data.verdict.main.decision with input as json.patch(req({"type": "user", "id": "u-ann"}, "read", "t1"), [{"op": "add", "path": "/context/explain", "value": true}])
		with data.verdict_data.orgs as fixture.orgs
		with data.verdict.ext as ext
	x.context.reasons[_].message == "decided by package verdict.ext.ticket"
}

test_extension_search if {
	r := data.verdict.search.resources with input as {"subject": {"type": "service", "id": "svc-a"}, "action": {"name": "read"}, "resource": {"type": "ticket"}, "context": {"org": "t"}}
		with data.verdict_data.orgs as fixture.orgs
		with data.verdict.ext as ext
	r == ["t1", "t2"]
	a := data.verdict.search.actions with input as {"subject": {"type": "service", "id": "svc-a"}, "resource": {"type": "ticket", "id": "t1"}, "context": {"org": "t"}}
		with data.verdict_data.orgs as fixture.orgs
		with data.verdict.ext as ext
	a == ["close", "read"]
	s := data.verdict.search.subjects with input as {"subject": {"type": "service"}, "action": {"name": "read"}, "resource": {"type": "ticket", "id": "t1"}, "context": {"org": "t"}}
		with data.verdict_data.orgs as fixture.orgs
		with data.verdict.ext as ext
	s == ["svc-a", "svc-b"]
}
