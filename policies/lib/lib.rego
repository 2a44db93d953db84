# Helpers every concern reads: the organization's decision data, the subject,
# the project and environment a request names. Nothing here decides anything.
#
# Decision data lives at data.verdict_data.orgs[<org>] in the indexed shape of
# docs/data-model.md. The central PDP binds it per request to the facts of one
# subject (read from Redis); an edge PDP or stock OPA holds the whole org there
# from a bundle. The rules cannot tell the difference, by design.
package verdict.lib

# The organization the request is about (AuthZEN context.org).
org_id := input.context.org

# Every lookup below is a reference to a leaf of the org's data, never the
# org as a whole: with a bundle holding the whole organization, reading the
# org (or a project, or an environment) as one value would convert all of it
# on every decision.
org_known if data.verdict_data.orgs[org_id].org

# The subject id, only for subjects of type user.
subject_id := input.subject.id if input.subject.type == "user"

# The stored end user record of the subject (undefined when unknown).
user := data.verdict_data.orgs[org_id].users[subject_id]

# Only an active user is granted anything (rule 1).
active if user.status == "active"

# Anonymous callers: an explicit anonymous subject, or no subject at all.
anonymous if input.subject.type == "anonymous"

anonymous if not input.subject

# The subject's own token claims, verified by the PDP before evaluation, stand
# in for the stored record (rules 4 and 8). Only the PDP writes verified_token.
token := t if {
	t := data.verdict_data.orgs[org_id].verified_token
	t.subject == subject_id
}

# designerUser: the verified token's claim, else the user record's field.
designer_user if designer_flag == true

designer_flag := token.designer_user if token_has("designer_user") else := object.get(user, "designer_user", false)

# The subject's own attributes: the token's claim, else the record's.
attributes := token.attributes if token_has("attributes") else := object.get(user, "attributes", {})

token_has(claim) if token[claim] != null

# Runtime groups the subject belongs to, as stored (a list) and as a set.
group_list := data.verdict_data.orgs[org_id].user_groups[subject_id]

groups contains g if some g in group_list

group_attributes(g) := data.verdict_data.orgs[org_id].groups[g].attributes

legacy_roles := data.verdict_data.orgs[org_id].legacy_grants[subject_id]

# Designer groups the subject is an explicit member of, and assignments.
designer_groups_of := data.verdict_data.orgs[org_id].designer_groups_of[subject_id]

designer_roles_of_user := data.verdict_data.orgs[org_id].designer_roles.users[subject_id]

designer_roles_of_group(g) := data.verdict_data.orgs[org_id].designer_roles.groups[g]

business_filter(id) := data.verdict_data.orgs[org_id].business_filters[id]

# The project a request names: the resource itself for solution and project
# resources, else the resource's project property. (Conditions on input are
# what OPA's rule index selects on: written so, one body is evaluated.)
project_id := input.resource.id if input.resource.type == "solution"

project_id := input.resource.id if input.resource.type == "project"

project_id := input.resource.properties.project if {
	input.resource.type != "solution"
	input.resource.type != "project"
}

project_workspace(pid) := data.verdict_data.orgs[org_id].projects[pid].workspace

project_known if project_workspace(project_id)

# The project's builds (by id) and automation-flow permissions.
builds := data.verdict_data.orgs[org_id].projects[project_id].builds

flow_permissions := data.verdict_data.orgs[org_id].projects[project_id].flow_permissions

environment_name := input.context.environment

# The project's settings in the request's environment: the active policy and
# the shares, looked up for the subject and its groups only.
default_policy := data.verdict_data.orgs[org_id].projects[project_id].environments[environment_name].active_policy.default

username_override(name) := data.verdict_data.orgs[org_id].projects[project_id].environments[environment_name].active_policy.username_overrides[name]

group_override(g) := data.verdict_data.orgs[org_id].projects[project_id].environments[environment_name].active_policy.group_overrides[g]

role_overrides := data.verdict_data.orgs[org_id].projects[project_id].environments[environment_name].active_policy.role_overrides

user_share := data.verdict_data.orgs[org_id].projects[project_id].environments[environment_name].shares.users[subject_id]

group_share(g) := data.verdict_data.orgs[org_id].projects[project_id].environments[environment_name].shares.groups[g]

# What the subject is served in this project and environment, when the
# central PDP kept it with the facts (verdict.served): read only for the same
# subject, project and environment.
served := s if {
	s := data.verdict_data.orgs[org_id].served
	s.subject == subject_id
	s.project == project_id
	s.environment == environment_name
}

# compute: nothing was kept, the subject-level rules work their values out.
# (One negation, evaluated once per decision: rules test compute.)
compute if not served

# explain is on when the request asks for it.
explain if input.context.explain == true

# reason builds one explanation entry.
reason(rule, message) := {"rule": rule, "message": message}

# set_of turns an array (or an undefined value) into a set.
set_of(xs) := {x | some x in xs}
