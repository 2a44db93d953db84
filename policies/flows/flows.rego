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

flow_id := input.resource.id

flow_entries := lib.flow_permissions.flows[flow_id]

app_entries := lib.flow_permissions.defaults

# A role subject: a runtime role (none without a served build) or the
# system role.
role_subject(r) if roles.roles[r]

role_subject(r) if r == authn.system_role

# The verdict of one level's entries: "deny", "grant", or undefined when no
# entry applies.
verdict_of(entries) := "deny" if {
	lib.active
	entries.users[lib.subject_id] == "deny"
} else := "deny" if {
	some r, v in entries.roles
	v == "deny"
	role_subject(r)
} else := "grant" if {
	lib.active
	entries.users[lib.subject_id] == "grant"
} else := "grant" if {
	some r, v in entries.roles
	v == "grant"
	role_subject(r)
}

outcome := {"level": "flow", "verdict": v} if {
	v := verdict_of(flow_entries)
} else := {"level": "app-wide", "verdict": v} if {
	v := verdict_of(app_entries)
} else := {"level": "default", "verdict": "grant"}

blocked := "unknown_project" if {
	not lib.project_known
} else := "environment_required" if {
	not lib.environment_name
} else := "subject_not_active" if {
	not lib.anonymous
	not lib.active
}

# The project and environment are known and the subject is an active user
# or anonymous.
ready if {
	lib.project_known
	lib.environment_name
	subject_applies
}

subject_applies if lib.active

subject_applies if lib.anonymous

result := {"decision": true, "context": {"level": outcome.level}} if {
	ready
	outcome.verdict == "grant"
} else := {"decision": false, "context": {"reason": "flow_denied", "level": outcome.level}} if {
	ready
} else := {"decision": false, "context": {"reason": blocked}}

# Explanations: the entries that apply at the level that decided.
applying(entries) := {[v, sprintf("user %s", [u])] |
	some u, v in entries.users
	u == lib.subject_id
	lib.active
} | {[v, sprintf("role %s", [r])] |
	some r, v in entries.roles
	role_subject(r)
}

level_entries := applying(flow_entries) if outcome.level == "flow"

level_entries := applying(app_entries) if outcome.level == "app-wide"

reasons contains lib.reason("flow", msg) if {
	not blocked
	outcome.level != "default"
	some [v, who] in level_entries
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

parts := [data.verdict.active_policy.reasons, roles.reasons, reasons]
