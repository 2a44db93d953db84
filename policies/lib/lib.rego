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

org := data.verdict_data.orgs[org_id]

# The subject id, only for subjects of type user.
subject_id := input.subject.id if input.subject.type == "user"

# The stored end user record of the subject (undefined when unknown).
user := org.users[subject_id]

# Only an active user is granted anything (rule 1).
active if user.status == "active"

# Anonymous callers: an explicit anonymous subject, or no subject at all.
anonymous if input.subject.type == "anonymous"

anonymous if not input.subject

# The subject's own token claims, verified by the PDP before evaluation, stand
# in for the stored record (rules 4 and 8). Only the PDP writes verified_token.
token := org.verified_token if org.verified_token.subject == subject_id

# designerUser: the verified token's claim, else the user record's field.
designer_user if token.designer_user == true

designer_user if {
	not token_has("designer_user")
	user.designer_user == true
}

# The subject's own attributes: the token's claim, else the record's.
attributes := token.attributes if token_has("attributes")

attributes := object.get(user, "attributes", {}) if not token_has("attributes")

token_has(claim) if token[claim] != null

# Runtime groups the subject belongs to.
groups contains g if some g in org.user_groups[subject_id]

# The project a request names: the resource itself for solution and project
# resources, else the resource's project property.
project_id := input.resource.id if input.resource.type in {"solution", "project"}

project_id := input.resource.properties.project if not input.resource.type in {"solution", "project"}

project := org.projects[project_id]

environment_name := input.context.environment

# The project's settings in the request's environment (shares, active policy).
environment := project.environments[environment_name]

# explain is on when the request asks for it.
explain if input.context.explain == true

# reason builds one explanation entry.
reason(rule, message) := {"rule": rule, "message": message}

# set_of turns an array (or an undefined value) into a set.
set_of(xs) := {x | some x in xs}
