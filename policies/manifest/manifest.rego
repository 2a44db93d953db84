# The permission manifest: everything a platform's front end needs for one
# user in one solution (project) and environment, in one evaluation: the build
# served and the rule that chose it, each UI flow (may it be launched, and the
# state of each of its components), each process (may it be started, and the
# rights on each of its swimlanes), and the automation flows (each flow that
# has entries in the project's flow permissions, and the default for others).
#
# Input: the AuthZEN request for access to the solution (subject, resource
# {type: solution, id: <project>}, action access, context {org, environment,
# explain?}).
#
# Every item is asked of the entry point, verdict.main.decision, with the
# item as the request's resource and action and everything else as given, so
# the manifest can never disagree with a single decision: it has no rule of
# its own about who may do what. It only reads the served build (to list its
# UI flows, components, processes and swimlanes) and the project's flow
# permissions (to list the flows that have entries), at the documented paths
# of the decision data (docs/data-model.md).
package verdict.manifest

org := input.context.org

project := input.resource.id

# The rights a swimlane has (DESIGN.md §4).
swimlane_actions := ["view", "execute", "self_assign"]

# ask is the entry point's answer to the request with resource and action
# replaced.
ask(resource, action) := d if {
	d := data.verdict.main.decision with input.resource as resource
		with input.action as {"name": action}
}

access := ask({"type": "solution", "id": project}, "access")

# The build served, when the subject may run the solution. Without access
# nothing of a build is granted (no UI flow, process or swimlane), so none is
# listed.
build_id := access.context.build if access.decision == true

build := data.verdict_data.orgs[org].projects[project].builds[build_id]

ui_flow(f) := {"type": "ui_flow", "id": f, "properties": {"project": project}}

component(f, c) := {"type": "component", "id": c, "properties": {"project": project, "ui_flow": f}}

process(p) := {"type": "process", "id": p, "properties": {"project": project}}

swimlane(p, s) := {"type": "swimlane", "id": s, "properties": {"project": project, "process": p}}

flow(f) := {"type": "flow", "id": f, "properties": {"project": project}}

# A UI flow: may it be launched, the state of each component the build
# describes, and the state of any other component (a component the build does
# not describe has no rules: enabled for whoever may launch the flow).
ui_flows[f] := {
	"launch": ask(ui_flow(f), "launch"),
	"components": {c: ask(component(f, c), "view") | some c in described},
	"other_components": ask(component(f, other_id(described)), "view"),
} if {
	some f, spec in build.ui_flows
	described := {c | some c, _ in object.get(spec, "components", {})}
}

processes[p] := {
	"start": ask(process(p), "start"),
	"swimlanes": {s: {a: ask(swimlane(p, s), a) | some a in swimlane_actions} | some s, _ in object.get(spec, "swimlanes", {})},
} if {
	some p, spec in build.processes
}

# Automation flows do not depend on the served build (rule 7): they are
# answered whether or not the subject may run the solution.
listed_flows contains f if {
	some f, _ in data.verdict_data.orgs[org].projects[project].flow_permissions.flows
}

flows := {
	"listed": {f: ask(flow(f), "run") | some f in listed_flows},
	"others": ask(flow(other_id(listed_flows)), "run"),
}

# An id that is not in ids, to ask for "any other" item: "*" unless an item is
# called so, else "*" followed by every id, which is longer than any one of
# them.
other_id(ids) := "*" if {
	not "*" in ids
} else := concat("", array.concat(["*"], sort(ids)))

result := {
	"access": access,
	"ui_flows": ui_flows,
	"processes": processes,
	"flows": flows,
}
