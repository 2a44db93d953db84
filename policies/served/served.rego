# What the subject is served in a project and environment: the build and the
# rule that chose it (rule 3), its runtime roles under that build (rule 2)
# and whether the designer bypass applies (rule 4). They depend on the
# subject, the project and the environment only, never on the resource or
# the action, so every decision of a front end's session shares them.
#
# The central PDP evaluates `summary` once with the first decision of a
# (subject, project, environment) and keeps it with that subject's facts, at
# data.verdict_data.orgs[<org>].served; the rules that compute these values
# read it back there (lib.served) instead of working them out again. It is
# written only by the PDP, only beside the facts it was computed from, and
# read only for the same subject, project and environment. Bundles never hold
# it: an edge and stock OPA compute everything, and a test holds that the
# answers, reasons included, are the same.
package verdict.served

import data.verdict.active_policy
import data.verdict.bypass
import data.verdict.lib
import data.verdict.roles

default summary := null

summary := object.union(core, chosen) if {
	not lib.served
	lib.project_known
	lib.environment_name
}

core := {
	"subject": lib.subject_id,
	"project": lib.project_id,
	"environment": lib.environment_name,
	"roles": sort(roles.roles),
	"bypass": bypass_allowed,
}

bypass_allowed := true if bypass.allowed else := false

# The active policy's choice, when there is one.
chosen := {"selection": active_policy.selection, "build_id": active_policy.build_id} if {
	active_policy.build_id
} else := {"selection": active_policy.selection} if {
	active_policy.selection
} else := {}
