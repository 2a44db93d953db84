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

# The subject's roles that are on the flow's allow-list.
launch_roles := roles.roles & lib.set_of(flow.roles)

can_launch if {
	flow
	count(launch_roles) > 0
}

can_launch if {
	flow
	bypass.allowed
}

blocked := solution.blocked

blocked := "unknown_ui_flow" if {
	not solution.blocked
	not flow
}

launch_result := {"decision": false, "context": {"reason": blocked}} if blocked

launch_result := {"decision": true, "context": {"build": active_policy.build_id}} if can_launch

launch_result := {"decision": false, "context": {"reason": "no_role_on_allow_list"}} if {
	not blocked
	not can_launch
}

# Component state.
component := object.get(flow, ["components", input.resource.id], {})

rank := {"hidden": 0, "disabled": 1, "enabled": 2}

role_state(r) := "hidden" if {
	r in component.hidden_for
} else := "disabled" if {
	r in component.disabled_for
} else := "enabled"

best_rank := max({rank[role_state(r)] | some r in launch_roles})

state := "enabled" if {
	can_launch
	bypass.allowed
} else := s if {
	can_launch
	some s, n in rank
	n == best_rank
} else := "hidden"

component_result := {"decision": state != "hidden", "context": {"state": state}}

launch_reasons contains lib.reason("ui_flow", msg) if {
	some r in launch_roles
	msg := sprintf("role %s is on the allow-list of UI flow %s", [r, flow_id])
}

launch_reasons contains lib.reason("ui_flow", msg) if {
	flow
	count(launch_roles) == 0
	msg := sprintf("no role of the subject is on the allow-list of UI flow %s (%s)", [flow_id, concat(", ", flow.roles)])
}

launch_reasons contains lib.reason("ui_flow", msg) if {
	not solution.blocked
	not flow
	msg := sprintf("build %s has no UI flow %v", [active_policy.build_id, flow_id])
}

component_reasons contains lib.reason("component", msg) if {
	some r in launch_roles
	msg := sprintf("component %s is %s for role %s", [input.resource.id, role_state(r), r])
}

component_reasons contains lib.reason("component", msg) if {
	not can_launch
	msg := sprintf("UI flow %v cannot be launched: component hidden", [flow_id])
}

launch_reasons_all := (solution.reasons | launch_reasons) | bypass.reasons

component_reasons_all := launch_reasons_all | component_reasons
