package verdict.admin_test

import data.verdict.test.fixture

perm(user, p, org) := fixture.decide({"subject": {"type": "user", "id": user}, "action": {"name": p}, "resource": {"type": "org", "id": org}, "context": {"org": "t"}})

test_org_admin_has_all if {
	every p in data.verdict.admin.permissions {
		perm("u-adm", p, "t").decision
	}
	"u-adm holds org_runtime_users_read (org_admin on org true via user u-adm)" in fixture.explain({"subject": {"type": "user", "id": "u-adm"}, "action": {"name": "org_runtime_users_read"}, "resource": {"type": "org", "id": "t"}, "context": {"org": "t"}})
}

test_others_have_none if {
	perm("u-wsa", "org_runtime_roles_write", "t") == {"decision": false, "context": {"reason": "not_org_admin"}}
	"u-wsa is neither org_admin nor org_owner of t" in fixture.explain({"subject": {"type": "user", "id": "u-wsa"}, "action": {"name": "org_runtime_roles_write"}, "resource": {"type": "org", "id": "t"}, "context": {"org": "t"}})
}

test_disabled_owner_has_none if {
	not perm("u-off", "org_runtime_users_read", "t").decision
}

test_other_org_resource if {
	perm("u-adm", "org_runtime_users_read", "other") == {"decision": false, "context": {"reason": "other_org"}}
}
