# Rule 3, active policy: which build of project P the subject is served in
# environment E. A username override for the subject wins; else, among group
# overrides of the subject's groups, the lowest priority number (ties, which
# the validator refuses, go to the group first by name); else the default.
# Role overrides are kept in the data and listed as deprecated but never take
# part. latest_on_branch means the newest build on that branch, by creation
# time (created_key: UTC, fixed width, ordered as text, so no time parsing can
# fail on a date the validator accepts), ties broken by build id.
#
# When the chosen policy names no existing build (an empty branch), nothing is
# served: there is no fallback to a lower rule, so an override can never be
# bypassed by a misconfiguration.
package verdict.active_policy

import data.verdict.lib

username_override := lib.username_override(lib.user.username)

# The group override that applies: [priority, group], lowest first.
best_group := min([[o.priority, g] |
	some g in lib.group_list
	o := lib.group_override(g)
])

# Read back when kept (lib.served), else worked out.
selection := s if {
	s := lib.served.selection
} else := chosen if lib.compute

chosen := {"rule": "username_override", "policy": username_override, "username": lib.user.username} if {
	username_override
} else := {
	"rule": "group_override", "policy": lib.group_override(best_group[1]).policy,
	"group": best_group[1], "priority": best_group[0],
} if {
	best_group
} else := {"rule": "default", "policy": lib.default_policy} if {
	lib.default_policy
}

build_id := b if {
	b := lib.served.build_id
} else := b if {
	lib.compute
	b := selection.policy.build
	lib.builds[b]
} else := latest_on_branch(selection.policy.latest_on_branch) if lib.compute

# The newest build on a branch, by creation time, ties broken by build id.
# created_key is the creation time in UTC, fixed width (docs/data-model.md):
# it orders as text over the whole range the org document allows, where a
# time builtin would fail outside int64 nanoseconds and drop the build.
latest_on_branch(branch) := max([[b.created_key, id] |
	some id, b in lib.builds
	b.branch == branch
])[1]

# The build served to the subject.
build := lib.builds[build_id]

reasons contains lib.reason("active_policy", msg) if {
	selection.rule == "username_override"
	build_id
	msg := sprintf("username override for %s serves build %s", [selection.username, build_id])
}

reasons contains lib.reason("active_policy", msg) if {
	selection.rule == "group_override"
	build_id
	msg := sprintf("group override for %s (priority %v) serves build %s", [selection.group, selection.priority, build_id])
}

reasons contains lib.reason("active_policy", msg) if {
	selection.rule == "default"
	build_id
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
