# Rule 3, active policy: which build of project P the subject is served in
# environment E. A username override for the subject wins; else, among group
# overrides of the subject's groups, the lowest priority number; else the
# default. Role overrides are kept in the data and listed as deprecated but
# never take part. latest_on_branch means the newest build on that branch.
#
# When the chosen policy names no existing build (an empty branch), nothing is
# served: there is no fallback to a lower rule, so an override can never be
# bypassed by a misconfiguration.
package verdict.active_policy

import data.verdict.lib

username_override := lib.username_override(lib.user.username)

# Group overrides that apply to the subject, by group name.
group_overrides[g] := o if {
	some g in lib.groups
	o := lib.group_override(g)
}

best_priority := min({o.priority | some o in group_overrides})

# Priorities are unique per environment (validated); a tie would still pick
# one group deterministically, the first by name.
winning_group := min({g | some g, o in group_overrides; o.priority == best_priority})

selection := {"rule": "username_override", "policy": username_override, "username": lib.user.username} if {
	username_override
} else := {
	"rule": "group_override", "policy": group_overrides[winning_group].policy,
	"group": winning_group, "priority": best_priority,
} if {
	winning_group
} else := {"rule": "default", "policy": lib.default_policy} if {
	lib.default_policy
}

builds := lib.builds

build_id := selection.policy.build if builds[selection.policy.build]

build_id := latest_on_branch(selection.policy.latest_on_branch)

# The newest build on a branch, by creation time, ties broken by build id.
latest_on_branch(branch) := max([[time.parse_rfc3339_ns(b.created), id] |
	some id, b in builds
	b.branch == branch
])[1]

# The build served to the subject.
build := builds[build_id]

reasons contains lib.reason("active_policy", msg) if {
	selection.rule == "username_override"
	msg := sprintf("username override for %s serves build %s", [selection.username, build_id])
}

reasons contains lib.reason("active_policy", msg) if {
	selection.rule == "group_override"
	msg := sprintf("group override for %s (priority %d) serves build %s", [selection.group, selection.priority, build_id])
}

reasons contains lib.reason("active_policy", msg) if {
	selection.rule == "default"
	msg := sprintf("default active policy serves build %s", [build_id])
}

reasons contains lib.reason("active_policy", msg) if {
	selection
	not build_id
	msg := sprintf("active policy (%s) names no existing build: nothing is served", [selection.rule])
}

reasons contains lib.reason("active_policy", msg) if {
	lib.project_known
	not lib.default_policy
	msg := sprintf("project %s has no active policy in environment %v", [lib.project_id, lib.environment_name])
}

reasons contains lib.reason("active_policy", msg) if {
	some r, _ in lib.role_overrides
	msg := sprintf("role override for %s is deprecated and ignored", [r])
}
