# Rule 4, designer bypass: an active designer user (designerUser in the verified
# token, else the user record) with designer access to project P runs P at
# runtime without a runtime role: every UI flow and process of the served
# build, view/execute/self_assign on every swimlane, every component enabled.
# It grants no runtime role, so it cannot be used to act "as another role", and
# it never lifts an automation-flow deny (rule 7).
package verdict.bypass

import data.verdict.designtime
import data.verdict.lib

allowed if lib.served.bypass == true

allowed if {
	lib.compute
	lib.active
	lib.designer_user
	lib.project_known
	designtime.has_designer_access(lib.project_id)
}

# The grants behind the designer access (for explanations).
via := designtime.designer_access(lib.project_id)

reasons contains lib.reason("designer_bypass", msg) if {
	allowed
	some g in via
	msg := sprintf("designer bypass: designerUser with %s", [designtime.describe(g)])
}

reasons contains lib.reason("designer_bypass", msg) if {
	lib.active
	not lib.designer_user
	count(via) > 0
	msg := "designer access but no designerUser attribute: no bypass"
}
