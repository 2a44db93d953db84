# Rule 2, runtime roles of the subject on project P in environment E under the
# build B it is served (rule 3): the union of roles shared to the subject on
# (P,E), roles shared on (P,E) to any group it belongs to, and its legacy 5.1
# grants, intersected with B's role catalog. A share of a role that B does not
# list grants nothing. Only an active user has roles.
#
# The decision path reads `roles` (names only); where each role comes from is
# worked out only to explain (`sources`).
package verdict.roles

import data.verdict.active_policy
import data.verdict.lib

# Roles granted on (P,E), before the catalog. (Complete sets, computed once
# per decision: rules look roles up by name, and a partial set would be
# evaluated again for every name asked.)
granted := ({r | lib.active; some r in lib.user_share} | {r |
	lib.active
	some g in lib.group_list
	some r in lib.group_share(g)
}) | {r | lib.active; lib.project_known; some r in lib.legacy_roles}

# The subject's effective runtime roles: the catalog's roles it was granted
# (read back when kept, lib.served).
roles := {r | some r in lib.served.roles} if {
	lib.served
} else := {r |
	some r in active_policy.build.roles
	granted[r]
}

catalog := lib.set_of(active_policy.build.roles)

# Where each granted role comes from, for explanations only.
sources contains {"role": r, "source": "share", "user": lib.subject_id} if {
	lib.active
	some r in lib.user_share
}

sources contains {"role": r, "source": "group_share", "group": g} if {
	lib.active
	some g in lib.group_list
	some r in lib.group_share(g)
}

sources contains {"role": r, "source": "legacy_grant", "user": lib.subject_id} if {
	lib.active
	lib.project_known
	some r in lib.legacy_roles
}

reasons contains lib.reason("runtime_roles", msg) if {
	some s in sources
	s.source == "share"
	s.role in catalog
	msg := sprintf("role %s shared to user %s on %s/%s", [s.role, s.user, lib.project_id, lib.environment_name])
}

reasons contains lib.reason("runtime_roles", msg) if {
	some s in sources
	s.source == "group_share"
	s.role in catalog
	msg := sprintf("role %s shared to group %s on %s/%s", [s.role, s.group, lib.project_id, lib.environment_name])
}

reasons contains lib.reason("runtime_roles", msg) if {
	some s in sources
	s.source == "legacy_grant"
	s.role in catalog
	msg := sprintf("role %s from a legacy (5.1) grant to user %s", [s.role, s.user])
}

reasons contains lib.reason("runtime_roles", msg) if {
	some r in granted - catalog
	msg := sprintf("role %s is granted but build %s does not list it: it grants nothing", [r, active_policy.build_id])
}
