# The single entry point: an AuthZEN-shaped request in, {decision, context} out
# (DESIGN.md §4). It checks what every decision needs (a known org, a built-in
# resource type and action, an active subject) and hands over to the package of
# the concern. Whatever cannot be decided is denied, with a reason.
package verdict.main

import data.verdict.authn
import data.verdict.lib

# Built-in resource types and their actions.
actions := {
	"solution": {"access"},
	"ui_flow": {"launch"},
	"component": {"view"},
	"process": {"start"},
	"swimlane": {"view", "execute", "self_assign"},
	"flow": {"run"},
	"project": {"read", "edit", "manage_access", "create_build", "change_active_policy"},
	"org": {
		"org_runtime_users_read", "org_runtime_users_write",
		"org_runtime_roles_read", "org_runtime_roles_write",
		"org_runtime_groups_read", "org_runtime_groups_write",
	},
}

rtype := input.resource.type

builtin if actions[rtype]

# Extension policies (DESIGN.md §4): a type that is not built in is decided
# by package verdict.ext.<type>, whose rule decision is a boolean or
# {decision, context}; undefined means false.
extension if {
	not builtin
	data.verdict.ext[rtype]
}

# The first check that fails, or "ok" (rule 1 and rule 11 come first). Rule 1
# holds for extensions too: a user subject must be an active user of the org;
# other subject types (services, devices...) are the extension's call. The
# common case is tested first and positively; the checks that name a failure
# are worked out only when it fails.
gate := "ok" if {
	lib.org_known
	actions[input.resource.type][input.action.name]
	subject_passes
} else := "unknown_org" if {
	not lib.org_known
} else := "unknown_resource_type" if {
	not builtin
	not extension
} else := "unsupported_action" if {
	builtin
	not input.action.name in actions[rtype]
} else := "subject_not_active" if {
	builtin
	rtype != "flow"
	not lib.active
} else := "subject_not_active" if {
	extension
	input.subject.type == "user"
	not lib.active
} else := "extension"

# Built-in types: the subject is an active user, or any subject for flows.
subject_passes if lib.active

subject_passes if input.resource.type == "flow"

# Dispatch on input.resource.type directly: OPA's rule index then picks the
# one body that applies instead of trying each.
result := data.verdict.solution.result if input.resource.type == "solution"

result := data.verdict.ui.launch_result if input.resource.type == "ui_flow"

result := data.verdict.ui.component_result if input.resource.type == "component"

result := data.verdict.process.start_result if input.resource.type == "process"

result := data.verdict.process.swimlane_result if input.resource.type == "swimlane"

result := data.verdict.flows.result if input.resource.type == "flow"

result := data.verdict.designtime.result if input.resource.type == "project"

result := data.verdict.admin.result if input.resource.type == "org"

# An extension's answer (the gate says "extension" once an extension type
# passed it, so built-in decisions never look at these rules).
ext_result := {"decision": true, "context": {}} if {
	data.verdict.ext[rtype].decision == true
} else := {"decision": false, "context": {"reason": "extension_denied"}} if {
	data.verdict.ext[rtype].decision == false
} else := {"decision": object.get(ext, "decision", false) == true, "context": ext_context(ext)} if {
	# An object answer is the extension's own; a deny without a reason gets one.
	ext := data.verdict.ext[rtype].decision
	is_object(ext)
} else := {"decision": false, "context": {"reason": "extension_undefined"}}

ext_context(ext) := object.get(ext, "context", {}) if {
	object.get(ext, "decision", false) == true
} else := object.union({"reason": "extension_denied"}, object.get(ext, "context", {}))

# What decided, in the order it was decided (each part a set of reasons):
# the subject, then the concern's steps.
parts := data.verdict.solution.reasons if input.resource.type == "solution"

parts := data.verdict.ui.launch_parts if input.resource.type == "ui_flow"

parts := data.verdict.ui.component_parts if input.resource.type == "component"

parts := data.verdict.process.parts if input.resource.type == "process"

parts := data.verdict.process.parts if input.resource.type == "swimlane"

parts := data.verdict.flows.parts if input.resource.type == "flow"

parts := [data.verdict.designtime.reasons] if input.resource.type == "project"

parts := [data.verdict.admin.reasons] if input.resource.type == "org"

parts := [{lib.reason("extension", sprintf("decided by package verdict.ext.%s", [rtype]))}] if gate == "extension"

gate_reasons contains lib.reason("tenancy", sprintf("organization %v is unknown", [lib.org_id])) if gate == "unknown_org"

gate_reasons contains lib.reason("request", sprintf("resource type %v is not built in", [rtype])) if gate == "unknown_resource_type"

gate_reasons contains lib.reason("request", sprintf("action %v is not defined for %v", [input.action.name, rtype])) if gate == "unsupported_action"

gate_reasons contains r if {
	gate == "subject_not_active"
	some r in authn.reasons
}

# The answer: gated requests are denied with the gate as reason.
answer := r if {
	gate == "ok"
	r := result
} else := ext_result if {
	gate == "extension"
} else := {"decision": false, "context": {"reason": gate}} if {
	gate != "ok"
}

# Explanations only when asked for: they cost more than the decision.
default decision := {"decision": false, "context": {"reason": "undecided"}}

decision := d if {
	lib.explain
	d := object.union(answer, {"context": object.union(answer.context, {"reasons": explained})})
} else := answer

explained := array.concat(sort(authn.reasons), [r | some part in parts; some r in sort(part)]) if {
	gate in {"ok", "extension"}
} else := sort(gate_reasons)
