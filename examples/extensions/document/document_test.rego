package document_test

import data.verdict.ext.document

orgs := {"acme": {
	"org": "acme",
	"users": {
		"u-bob": {"id": "u-bob", "username": "bob", "status": "active", "attributes": {"department": ["sales"]}},
		"u-ivan": {"id": "u-ivan", "username": "ivan", "status": "active"},
	},
	"user_groups": {"u-ivan": ["Back office"]},
	"groups": {"Back office": {"attributes": {"department": ["ops"]}}},
}}

req(user, action, doc) := {"subject": {"type": "user", "id": user}, "action": {"name": action}, "resource": {"type": "document", "id": doc}, "context": {"org": "acme"}}

test_group_department_reads if {
	d := data.verdict.main.decision with input as req("u-ivan", "read", "handbook") with data.verdict_data.orgs as orgs
	d == {"decision": true, "context": {"department": "ops"}}
}

test_other_department_denied if {
	d := data.verdict.main.decision with input as req("u-bob", "read", "payroll") with data.verdict_data.orgs as orgs
	d.decision == false
}

test_author_edits if {
	d := data.verdict.main.decision with input as req("u-bob", "edit", "handbook") with data.verdict_data.orgs as orgs
	d.decision == true
	e := data.verdict.main.decision with input as req("u-ivan", "edit", "handbook") with data.verdict_data.orgs as orgs
	e.decision == false
}

test_search_lists_readable_documents if {
	r := data.verdict.search.resources with input as {"subject": {"type": "user", "id": "u-ivan"}, "action": {"name": "read"}, "resource": {"type": "document"}, "context": {"org": "acme"}}
		with data.verdict_data.orgs as orgs
	r == ["handbook"]
	count(document.resources) == 2
}
