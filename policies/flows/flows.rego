# Rule 7, automation flows: deny over grant. The subjects that apply are the
# user, each of its runtime roles on the project (under its served build) and
# the system role AuthenticatedUser, or NonAuthenticatedUser without a subject.
# The flow's own entries are read first: any deny -> deny; else any grant ->
# allow; with no entry that applies, the app-wide entries are read the same
# way; with none there either, allow (the documented default). A deny is never
# overridden by a grant at the same level, nor by the designer bypass.
#
# Flow permissions cover every version of a flow, so an unknown flow id is not
# an error: it simply has no entries of its own.
package verdict.flows

import data.verdict.authn
import data.verdict.lib
import data.verdict.roles

permissions := lib.flow_permissions

flow_id := input.resource.id

# Role subjects: the runtime roles (none without a served build) and the
# system role.
role_subjects := roles.roles | {authn.system_role} if {
	lib.active
	roles.roles
} else := {authn.system_role}

# Entries of one level (a flow's, or the app-wide defaults) that apply.
applying(entries) := {[v, sprintf("user %s", [u])] |
	some u, v in entries.users
	u == lib.subject_id
	lib.active
} | {[v, sprintf("role %s", [r])] |
	some r, v in entries.roles
	r in role_subjects
}

verdict_of(applies) := "deny" if {
	some [v, _] in applies
	v == "deny"
} else := "grant" if {
	some [v, _] in applies
	v == "grant"
}

flow_level := applying(object.get(permissions, ["flows", flow_id], {}))

app_level := applying(object.get(permissions, "defaults", {}))

outcome := {"level": "flow", "verdict": verdict_of(flow_level), "entries": flow_level} if {
	count(flow_level) > 0
} else := {"level": "app-wide", "verdict": verdict_of(app_level), "entries": app_level} if {
	count(app_level) > 0
} else := {"level": "default", "verdict": "grant", "entries": set()}

blocked := "unknown_project" if {
	not lib.project_known
} else := "environment_required" if {
	not lib.environment_name
} else := "subject_not_active" if {
	not lib.anonymous
	not lib.active
}

result := {"decision": false, "context": {"reason": blocked}} if blocked

result := {"decision": outcome.verdict == "grant", "context": {"level": outcome.level}} if not blocked

reasons contains lib.reason("flow", msg) if {
	not blocked
	outcome.level != "default"
	some [v, who] in outcome.entries
	msg := sprintf("%s entry for %s on flow %s: %s", [outcome.level, who, flow_id, v])
}

reasons contains lib.reason("flow", msg) if {
	not blocked
	outcome.level == "default"
	msg := sprintf("no entry applies to flow %s: allowed by default", [flow_id])
}

reasons contains lib.reason("flow", msg) if {
	not blocked
	outcome.verdict == "deny"
	msg := "a deny is never overridden by a grant at the same level, nor by the designer bypass"
}
