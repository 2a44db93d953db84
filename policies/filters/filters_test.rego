package verdict.filters_test

import data.verdict.filters
import data.verdict.test.fixture

freq(user, f) := {"subject": {"type": "user", "id": user}, "action": {"name": "filter"}, "resource": {"type": "business_filter", "id": f}, "context": {"org": "t"}}

result(user) := r if {
	r := filters.result with input as freq(user, "by_region") with data.verdict_data.orgs as fixture.orgs
}

test_own_values if {
	result("u-ann") == {"field": "t.region", "operator": "in", "values": ["eu"]}
}

test_group_values_union if {
	result("u-ben") == {"field": "t.region", "operator": "in", "values": ["ca", "us"]}
}

test_no_values_matches_nothing if {
	result("u-cat").values == []
	result("u-off").values == []
	result("u-nobody").values == []
}

test_unknown_filter_undefined if {
	not filters.result with input as freq("u-ann", "nope") with data.verdict_data.orgs as fixture.orgs
}

test_token_attributes_replace_record if {
	orgs := json.patch(fixture.orgs, [{"op": "add", "path": "/t/verified_token", "value": {"subject": "u-ann", "designer_user": false, "attributes": {"region": ["jp"]}}}])
	r := filters.result with input as freq("u-ann", "by_region") with data.verdict_data.orgs as orgs
	r.values == ["jp"]
}

test_reasons if {
	x := {r.message | some r in filters.reasons} with input as freq("u-ben", "by_region") with data.verdict_data.orgs as fixture.orgs
	x == {"region=us from group Staff", "region=ca from group Staff"}
	y := {r.message | some r in filters.reasons} with input as freq("u-ann", "by_region") with data.verdict_data.orgs as fixture.orgs
	y == {"region=eu from the user's own attributes"}
}
