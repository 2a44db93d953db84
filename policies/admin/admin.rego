# Rule 10, admin permissions. org_runtime_{users,roles,groups}_{read,write}
# belong to org_admin and org_owner (held directly or through a designer
# group). The admin API asks this same package before every call.
package verdict.admin

import data.verdict.designtime
import data.verdict.lib

permissions := data.verdict.main.actions.org

# The subject is org_admin or org_owner (held directly or through a group).
org_admin if {
	some a in designtime.assignment
	a.scope.org == true
	a.role in {"org_admin", "org_owner"}
}

# Tenancy (rule 11): the org resource must be the request's own org.
result := {"decision": false, "context": {"reason": "other_org"}} if {
	input.resource.id != lib.org_id
} else := {"decision": true, "context": {}} if {
	org_admin
} else := {"decision": false, "context": {"reason": "not_org_admin"}}

# The grants behind the permission (for explanations).
admin_grants := {g |
	some g in designtime.grants
	g.scope.org == true
	g.role in {"org_admin", "org_owner"}
}

reasons contains lib.reason("admin", msg) if {
	some g in admin_grants
	msg := sprintf("%s holds %s (%s)", [input.subject.id, input.action.name, designtime.describe(g)])
}

reasons contains lib.reason("admin", msg) if {
	count(admin_grants) == 0
	msg := sprintf("%s is neither org_admin nor org_owner of %s", [input.subject.id, lib.org_id])
}
