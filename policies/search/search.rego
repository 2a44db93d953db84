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
resources := sort(builtin_resources | ext_resources)

builtin_resources contains id if {
	some id in candidates
	main.decision.decision with input.resource as object.union(input.resource, {"id": id})
}

# Extension types list their own candidates ({id, properties?}); a
# candidate's properties stand in for those the request leaves out.
ext_resources contains c.id if {
	main.extension
	some c in data.verdict.ext[input.resource.type].resources
	r := object.union(object.union(input.resource, {"properties": object.union(object.get(c, "properties", {}), object.get(input.resource, "properties", {}))}), {"id": c.id})
	main.decision.decision with input.resource as r
}

# Action search: the actions of the resource's type that are allowed.
actions := sort([name |
	some name in action_candidates
	main.decision.decision with input.action as {"name": name}
])

action_candidates := main.actions[input.resource.type]

action_candidates := lib.set_of(data.verdict.ext[input.resource.type].actions) if main.extension

# Subject search for extension types: the package's subjects.<type>
# candidates the decision allows, with their properties (undefined when the
# package lists no candidates of that type).
subject_results := [c |
	some c in ext_subjects
	s := {"type": input.subject.type, "id": c.id, "properties": object.get(c, "properties", {})}
	main.decision.decision with input.subject as s
]

ext_subjects := data.verdict.ext[input.resource.type].subjects[input.subject.type] if main.extension

subjects := sort([c.id | some c in subject_results])
