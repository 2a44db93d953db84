# Access to a solution (project) at runtime: the build the subject is served
# (rule 3) and whether it may run it at all, through a runtime role (rule 2) or
# the designer bypass (rule 4). The answer names the build and the rule that
# chose it.
package verdict.solution

import data.verdict.active_policy
import data.verdict.bypass
import data.verdict.lib
import data.verdict.roles

# Everything a runtime decision about the project needs is there: the
# project, the environment, an active policy and a served build. (Tested
# first and positively: the reasons why not are worked out only for a deny.)
ready if {
	lib.project_known
	lib.environment_name
	lib.default_policy
	active_policy.build
}

# Why nothing can be decided about the project in this environment.
blocked := "unknown_project" if {
	not lib.project_known
} else := "environment_required" if {
	not lib.environment_name
} else := "no_active_policy" if {
	not lib.default_policy
} else := "no_build_served" if {
	not active_policy.build
}

served := {"build": active_policy.build_id, "rule": active_policy.selection.rule}

# The subject may run the served build: a runtime role, else the bypass.
runs if {
	some _ in roles.roles
}

runs if bypass.allowed

result := {"decision": true, "context": served} if {
	ready
	runs
} else := {"decision": false, "context": {"reason": "no_runtime_role"}} if {
	ready
} else := {"decision": false, "context": {"reason": blocked}}

# What decided, in the order it was decided: the build served, the roles
# that come with it, the designer bypass.
reasons := [active_policy.reasons, roles.reasons, bypass.reasons]
