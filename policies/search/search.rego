# AuthZEN search over what one subject's facts hold. Candidates come from the
# data (the served build's UI flows and processes, a flow's components, a
# process's swimlanes, the project's automation flows with entries); each is
# kept when the entry point allows it, so search can never disagree with
# evaluation.
package verdict.search

import data.verdict.active_policy
import data.verdict.lib
import data.verdict.main

# Resource search: input.resource has the type (and properties) searched.
candidates contains id if {
	input.resource.type == "ui_flow"
	some id, _ in active_policy.build.ui_flows
}

candidates contains id if {
	input.resource.type == "process"
	some id, _ in active_policy.build.processes
}

candidates contains id if {
	input.resource.type == "component"
	some id, _ in active_policy.build.ui_flows[input.resource.properties.ui_flow].components
}

candidates contains id if {
	input.resource.type == "swimlane"
	some id, _ in active_policy.build.processes[input.resource.properties.process].swimlanes
}

candidates contains id if {
	input.resource.type == "flow"
	some id, _ in lib.flow_permissions.flows
}

candidates contains lib.project_id if {
	input.resource.type in {"solution", "project"}
	lib.project_known
}

candidates contains lib.org_id if {
	input.resource.type == "org"
	lib.org_known
}

# The candidates the subject is allowed, sorted.
resources := sort([id |
	some id in candidates
	main.decision.decision with input.resource as object.union(input.resource, {"id": id})
])

# Action search: the actions of the resource's type that are allowed.
actions := sort([name |
	some name in main.actions[input.resource.type]
	main.decision.decision with input.action as {"name": name}
])
