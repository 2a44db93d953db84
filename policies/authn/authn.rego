# Rule 1, authentication first: who the subject is and whether it may be
# granted anything at all. Only an active user is; an unknown, invited or
# disabled one is denied everything, whatever designer or admin roles it holds.
package verdict.authn

import data.verdict.lib

# status of the subject: active, invited, disabled, unknown or anonymous.
status := "anonymous" if lib.anonymous

status := lib.user.status if not lib.anonymous

status := "unknown" if {
	not lib.anonymous
	not lib.user
}

# The system role that applies to the subject for automation flows (rule 7).
system_role := "NonAuthenticatedUser" if lib.anonymous

system_role := "AuthenticatedUser" if lib.active

reasons contains lib.reason("subject", msg) if {
	status == "anonymous"
	msg := "no authenticated subject: NonAuthenticatedUser"
}

reasons contains lib.reason("subject", msg) if {
	not lib.anonymous
	msg := sprintf("user %s is %s", [input.subject.id, status])
}
