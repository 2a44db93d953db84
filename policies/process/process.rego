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

start_roles := roles.roles & lib.set_of(process.roles)

blocked := solution.blocked

blocked := "unknown_process" if {
	not solution.blocked
	not process
}

blocked := "unknown_swimlane" if {
	not solution.blocked
	process
	input.resource.type == "swimlane"
	not process.swimlanes[input.resource.id]
}

can_start if count(start_roles) > 0

can_start if bypass.allowed

start_result := {"decision": false, "context": {"reason": blocked}} if blocked

start_result := {"decision": true, "context": {"build": active_policy.build_id}} if {
	not blocked
	can_start
}

start_result := {"decision": false, "context": {"reason": "no_role_on_process"}} if {
	not blocked
	not can_start
}

swimlane := process.swimlanes[input.resource.id]

# Swimlane rights with the role that gives each.
lane_rights contains [right, r] if {
	some r in roles.roles
	some right in swimlane[r]
}

rights := {"view", "execute", "self_assign"} if {
	swimlane
	bypass.allowed
} else := {right | some [right, _] in lane_rights}

swimlane_result := {"decision": false, "context": {"reason": blocked}} if blocked

swimlane_result := {"decision": true, "context": {"build": active_policy.build_id}} if {
	not blocked
	input.action.name in rights
}

swimlane_result := {"decision": false, "context": {"reason": "no_swimlane_right"}} if {
	not blocked
	not input.action.name in rights
}

own_reasons contains lib.reason("process", msg) if {
	input.resource.type == "process"
	some r in start_roles
	msg := sprintf("role %s may start process %s", [r, process_id])
}

own_reasons contains lib.reason("process", msg) if {
	input.resource.type == "process"
	process
	count(start_roles) == 0
	msg := sprintf("no role of the subject may start process %s (%s)", [process_id, concat(", ", process.roles)])
}

own_reasons contains lib.reason("swimlane", msg) if {
	input.resource.type == "swimlane"
	some [right, r] in lane_rights
	msg := sprintf("role %s has %s on swimlane %s", [r, right, input.resource.id])
}

own_reasons contains lib.reason("swimlane", msg) if {
	input.resource.type == "swimlane"
	swimlane
	not input.action.name in rights
	msg := sprintf("no role of the subject has %s on swimlane %s", [input.action.name, input.resource.id])
}

own_reasons contains lib.reason("process", msg) if {
	blocked in {"unknown_process", "unknown_swimlane"}
	msg := sprintf("build %s has no %s %s", [active_policy.build_id, input.resource.type, input.resource.id])
}

reasons := (solution.reasons | own_reasons) | bypass.reasons
