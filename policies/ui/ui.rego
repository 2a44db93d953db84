# Rule 5, UI flows and their components. The subject may launch a UI flow of
# its served build when it holds a role on the flow's allow-list, or by the
# designer bypass. A component's state is the most permissive over the
# subject's roles that are on the flow's allow-list (enabled, then disabled,
# then hidden); a role that the component's rules do not name leaves it
# enabled. A component of a flow the subject cannot launch is hidden; the
# bypass enables all.
package verdict.ui

import data.verdict.active_policy
import data.verdict.bypass
import data.verdict.lib
import data.verdict.roles
import data.verdict.solution

flow_id := input.resource.id if input.resource.type == "ui_flow"

flow_id := input.resource.properties.ui_flow if input.resource.type == "component"

flow := active_policy.build.ui_flows[flow_id]

# A role of the subject on the flow's allow-list.
by_role if {
	some r in flow.roles
	roles.roles[r]
}

can_launch if by_role

can_launch if {
	flow
	bypass.allowed
}

# The flow is in the served build.
ready if {
	solution.ready
	flow
}

blocked := solution.blocked

blocked := "unknown_ui_flow" if {
	solution.ready
	not flow
}

launch_result := {"decision": true, "context": {"build": active_policy.build_id}} if {
	ready
	can_launch
} else := {"decision": false, "context": {"reason": "no_role_on_allow_list"}} if {
	ready
} else := {"decision": false, "context": {"reason": blocked}}

# Component state. With the bypass everything is enabled; else the most
# permissive state over the subject's roles on the allow-list.
component := object.get(flow, ["components", input.resource.id], {})

state := "enabled" if {
	some r in flow.roles
	roles.roles[r]
	role_state(r) == "enabled"
} else := "enabled" if {
	flow
	bypass.allowed
} else := "disabled" if {
	some r in flow.roles
	roles.roles[r]
	role_state(r) == "disabled"
} else := "hidden"

# The state one role gives the component: hidden_for wins over disabled_for.
role_state(r) := "hidden" if {
	r in object.get(component, "hidden_for", [])
} else := "disabled" if {
	r in object.get(component, "disabled_for", [])
} else := "enabled"

component_result := {"decision": true, "context": {"state": state}} if {
	ready
	state != "hidden"
} else := {"decision": false, "context": {"reason": "component_hidden", "state": "hidden"}} if {
	ready
} else := {"decision": false, "context": {"reason": blocked, "state": "hidden"}}

# Explanations.
launch_roles := {r | some r in flow.roles; roles.roles[r]}

launch_reasons contains lib.reason("ui_flow", msg) if {
	some r in launch_roles
	msg := sprintf("role %s is on the allow-list of UI flow %s", [r, flow_id])
}

launch_reasons contains lib.reason("ui_flow", msg) if {
	flow
	not can_launch
	msg := sprintf("no role of the subject is on the allow-list of UI flow %s (%s)", [flow_id, concat(", ", [sprintf("%v", [r]) | some r in flow.roles])])
}

launch_reasons contains lib.reason("ui_flow", msg) if {
	blocked == "unknown_ui_flow"
	msg := sprintf("build %s has no UI flow %v", [active_policy.build_id, flow_id])
}

component_reasons contains lib.reason("component", msg) if {
	not bypass.allowed
	some r in launch_roles
	msg := sprintf("component %s is %s for role %s", [input.resource.id, role_state(r), r])
}

component_reasons contains lib.reason("component", msg) if {
	bypass.allowed
	flow
	msg := sprintf("component %s is enabled by the designer bypass", [input.resource.id])
}

component_reasons contains lib.reason("component", msg) if {
	not blocked
	not can_launch
	msg := sprintf("UI flow %v cannot be launched: component hidden", [flow_id])
}

launch_parts := array.concat(solution.reasons, [launch_reasons])

component_parts := array.concat(launch_parts, [component_reasons])
