# Rule 9, design time: the subject's designer roles and what they allow on a
# project. A project permission is the union of the subject's direct and group
# assignments; org_admin and org_owner see every project, workspace_admin every
# project of its workspace; create_build and change_active_policy are workspace
# runtime permissions (workspace_runtime_editor, or an admin).
#
# Every workspace has the system group all_users_<workspace id> holding exactly
# the users with workspace access: a workspace-scoped role held directly or
# through a designer group. It cannot be edited, so membership is computed here,
# never stored.
package verdict.designtime

import data.verdict.lib

# Designer groups the subject is an explicit member of.
explicit_groups := lib.set_of(lib.designer_groups_of)

# Every designer role assignment of the subject ({role, scope}, as stored):
# held directly, through its explicit designer groups, or through the
# all_users group of a workspace it is a member of. Decisions read this;
# explanations read `grants`, which also says through what.
assignment contains a if some a in lib.designer_roles_of_user

assignment contains a if {
	some g in lib.designer_groups_of
	some a in lib.designer_roles_of_group(g)
}

assignment contains a if {
	some g in all_users_groups
	some a in lib.designer_roles_of_group(g)
}

# Assignments held directly or through explicit designer groups.
held contains {"role": a.role, "scope": a.scope, "via": {"user": lib.subject_id}} if {
	some a in lib.designer_roles_of_user
}

held contains {"role": a.role, "scope": a.scope, "via": {"group": g}} if {
	some g in explicit_groups
	some a in lib.designer_roles_of_group(g)
}

# Workspaces the subject is a member of: a workspace-scoped role held
# directly or through an explicit designer group.
member_workspaces contains a.scope.workspace if {
	some a in lib.designer_roles_of_user
	a.scope.workspace
}

member_workspaces contains a.scope.workspace if {
	some g in lib.designer_groups_of
	some a in lib.designer_roles_of_group(g)
	a.scope.workspace
}

all_users_groups contains concat("", ["all_users_", ws]) if some ws in member_workspaces

# Every assignment of the subject, including those of the all_users groups.
grants := held | {{"role": a.role, "scope": a.scope, "via": {"group": g}} |
	some g in all_users_groups
	some a in lib.designer_roles_of_group(g)
}

project_roles(pid) := {g.role | some g in grants; g.scope.project == pid}

workspace_roles(ws) := {g.role | some g in grants; g.scope.workspace == ws}

org_roles := {g.role | some g in grants; g.scope.org == true}

all_project_actions := {"read", "edit", "manage_access", "create_build", "change_active_policy"}

# What each designer role allows on a project in its scope.
project_role_actions := {
	"project_viewer": {"read"},
	"project_editor": {"read", "edit"},
	"project_owner": {"read", "edit", "manage_access"},
}

workspace_role_actions := {
	"workspace_admin": all_project_actions,
	"workspace_runtime_editor": {"create_build", "change_active_policy"},
	# The seed: theme editors are read-only on projects without explicit access.
	"theme_editor": {"read"},
	"workspace_user": set(),
}

org_role_actions := {"org_admin": all_project_actions, "org_owner": all_project_actions}

# allows(pid, act): some designer role of the subject allows act on pid.
allows(pid, act) if {
	some a in assignment
	a.scope.project == pid
	act in project_role_actions[a.role]
}

allows(pid, act) if {
	some a in assignment
	a.scope.workspace == lib.project_workspace(pid)
	act in workspace_role_actions[a.role]
}

allows(pid, act) if {
	some a in assignment
	a.scope.org == true
	act in org_role_actions[a.role]
}

# has_designer_access(pid): the condition of the designer bypass (rule 4): a
# project role on pid, workspace_admin of its workspace, org_admin or
# org_owner.
has_designer_access(pid) if {
	some a in assignment
	a.scope.project == pid
}

has_designer_access(pid) if {
	some a in assignment
	a.role == "workspace_admin"
	a.scope.workspace == lib.project_workspace(pid)
}

has_designer_access(pid) if {
	some a in assignment
	a.scope.org == true
	a.role in {"org_admin", "org_owner"}
}

# Each (action, grant) pair that allows an action on project pid (for
# explanations).
allowing(pid) := {[act, g] |
	some g in grants
	g.scope.project == pid
	some act in project_role_actions[g.role]
} | {[act, g] |
	some g in grants
	g.scope.workspace == lib.project_workspace(pid)
	some act in workspace_role_actions[g.role]
} | {[act, g] |
	some g in grants
	g.scope.org == true
	some act in org_role_actions[g.role]
}

# The grants that give designer access to pid (for explanations).
designer_access(pid) := {g |
	some g in grants
	g.scope.project == pid
} | {g |
	some g in grants
	g.scope.workspace == lib.project_workspace(pid)
	g.role == "workspace_admin"
} | {g |
	some g in grants
	g.scope.org == true
	g.role in {"org_admin", "org_owner"}
}

describe(g) := sprintf("%s on %s %s via %s %s", [g.role, k, v, vk, vv]) if {
	some k, v in g.scope
	some vk, vv in g.via
}

# The decision on a project resource (design time).
result := {"decision": false, "context": {"reason": "unknown_project"}} if {
	not lib.project_known
} else := {"decision": true, "context": {}} if {
	allows(lib.project_id, input.action.name)
} else := {"decision": false, "context": {"reason": "no_designer_permission"}}

project_grants := {g | some [act, g] in allowing(lib.project_id); act == input.action.name}

reasons contains lib.reason("design_time", msg) if {
	some g in project_grants
	msg := sprintf("%s allows %s (%s)", [g.role, input.action.name, describe(g)])
}

reasons contains lib.reason("design_time", msg) if {
	lib.project_known
	count(project_grants) == 0
	msg := sprintf("no designer role of %s allows %s on project %s", [input.subject.id, input.action.name, lib.project_id])
}

reasons contains lib.reason("design_time", msg) if {
	not lib.project_known
	msg := sprintf("project %v does not exist in org %s", [lib.project_id, lib.org_id])
}
