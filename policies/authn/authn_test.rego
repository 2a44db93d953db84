package verdict.authn_test

import data.verdict.authn
import data.verdict.test.fixture

run(sub) := x if {
	x := {"status": authn.status, "role": role_of(sub), "reasons": authn.reasons} with input as {"subject": sub, "context": {"org": "t"}}
		with data.verdict_data.orgs as fixture.orgs
}

role_of(sub) := r if {
	r := authn.system_role with input as {"subject": sub, "context": {"org": "t"}}
		with data.verdict_data.orgs as fixture.orgs
} else := null

test_active if {
	r := run({"type": "user", "id": "u-ann"})
	r.status == "active"
	r.role == "AuthenticatedUser"
	some x in r.reasons
	x.message == "user u-ann is active"
}

test_disabled_and_invited if {
	run({"type": "user", "id": "u-off"}).status == "disabled"
	run({"type": "user", "id": "u-inv"}).status == "invited"
	run({"type": "user", "id": "u-off"}).role == null
}

test_unknown if {
	run({"type": "user", "id": "u-nobody"}).status == "unknown"
}

test_anonymous_subject if {
	r := run({"type": "anonymous", "id": "anonymous"})
	r.status == "anonymous"
	r.role == "NonAuthenticatedUser"
}

test_no_subject_is_anonymous if {
	x := authn.system_role with input as {"context": {"org": "t"}} with data.verdict_data.orgs as fixture.orgs
	x == "NonAuthenticatedUser"
}
