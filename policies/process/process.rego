# Rule 6, processes and swimlanes of the served build. Starting a process
# needs a role on its list. Rights on a swimlane (view, execute, self_assign)
# are the union over the subject's roles, independent of the right to start
# the process; self-assigning a task needs self_assign on its swimlane. The
# designer bypass grants every process and all three rights on every swimlane.
package verdict.process

import data.verdict.active_policy
import data.verdict.bypass
import data.verdict.lib
import data.verdict.roles
import data.verdict.solution

process_id := input.resource.id if input.resource.type == "process"

process_id := input.resource.properties.process if input.resource.type == "swimlane"

process := active_policy.build.processes[process_id]

# The process (and, for a swimlane, the swimlane) is in the served build.
ready if {
	solution.ready
	process
}

lane_ready if {
	ready
	swimlane
}

blocked := solution.blocked

blocked := "unknown_process" if {
	solution.ready
	not process
}

blocked := "unknown_swimlane" if {
	ready
	input.resource.type == "swimlane"
	not swimlane
}

can_start if {
	some r in process.roles
	roles.roles[r]
}

can_start if bypass.allowed

start_result := {"decision": true, "context": {"build": active_policy.build_id}} if {
	ready
	can_start
} else := {"decision": false, "context": {"reason": "no_role_on_process"}} if {
	ready
} else := {"decision": false, "context": {"reason": blocked}}

swimlane := process.swimlanes[input.resource.id]

# The subject has the requested right on the swimlane: through a role, or
# the bypass.
has_right if bypass.allowed

has_right if {
	some r, rights in swimlane
	roles.roles[r]
	input.action.name in rights
}

swimlane_result := {"decision": true, "context": {"build": active_policy.build_id}} if {
	lane_ready
	has_right
} else := {"decision": false, "context": {"reason": "no_swimlane_right"}} if {
	lane_ready
} else := {"decision": false, "context": {"reason": blocked}}

# Explanations.
start_roles := {r | some r in process.roles; roles.roles[r]}

lane_rights contains [right, r] if {
	some r, rights in swimlane
	roles.roles[r]
	some right in rights
}

own_reasons contains lib.reason("process", msg) if {
	input.resource.type == "process"
	some r in start_roles
	msg := sprintf("role %s may start process %s", [r, process_id])
}

own_reasons contains lib.reason("process", msg) if {
	input.resource.type == "process"
	process
	not can_start
	msg := sprintf("no role of the subject may start process %s (%s)", [process_id, concat(", ", [sprintf("%v", [r]) | some r in process.roles])])
}

own_reasons contains lib.reason("swimlane", msg) if {
	input.resource.type == "swimlane"
	some [right, r] in lane_rights
	msg := sprintf("role %s has %s on swimlane %s", [r, right, input.resource.id])
}

own_reasons contains lib.reason("swimlane", msg) if {
	input.resource.type == "swimlane"
	swimlane
	not has_right
	msg := sprintf("no role of the subject has %s on swimlane %s", [input.action.name, input.resource.id])
}

own_reasons contains lib.reason("process", msg) if {
	blocked == "unknown_process"
	msg := sprintf("build %s has no process %v", [active_policy.build_id, process_id])
}

own_reasons contains lib.reason("swimlane", msg) if {
	blocked == "unknown_swimlane"
	msg := sprintf("process %s of build %s has no swimlane %v", [process_id, active_policy.build_id, input.resource.id])
}

parts := array.concat(solution.reasons, [own_reasons])
