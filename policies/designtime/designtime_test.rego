package verdict.designtime_test

import data.verdict.test.fixture

allowed(user, action, project) := fixture.decide({
	"subject": {"type": "user", "id": user},
	"action": {"name": action},
	"resource": {"type": "project", "id": project},
	"context": {"org": "t"},
}).decision

why(user, action, project) := fixture.explain({
	"subject": {"type": "user", "id": user},
	"action": {"name": action},
	"resource": {"type": "project", "id": project},
	"context": {"org": "t"},
})

test_project_roles if {
	allowed("u-own", "read", "p")
	allowed("u-own", "edit", "p")
	allowed("u-own", "manage_access", "p")
	not allowed("u-own", "create_build", "p")
	allowed("u-dev", "edit", "p")
	not allowed("u-dev", "manage_access", "p")
	"project_owner allows manage_access (project_owner on project p via user u-own)" in why("u-own", "manage_access", "p")
}

test_org_admin_everything if {
	every a in {"read", "edit", "manage_access", "create_build", "change_active_policy"} {
		allowed("u-adm", a, "r")
	}
}

test_workspace_admin_own_workspace_only if {
	allowed("u-wsa", "manage_access", "p")
	not allowed("u-wsa", "read", "r")
	"no designer role of u-wsa allows read on project r" in why("u-wsa", "read", "r")
}

test_runtime_editor if {
	allowed("u-ops", "create_build", "p")
	allowed("u-ops", "change_active_policy", "q")
	not allowed("u-ops", "edit", "p")
}

test_theme_editor_reads if {
	allowed("u-thm", "read", "p")
	not allowed("u-thm", "edit", "p")
}

test_all_users_group if {
	# wsu has only workspace_user on w: the all_users_w group gives project_viewer on q
	allowed("u-wsu", "read", "q")
	not allowed("u-wsu", "read", "p")
	"project_viewer allows read (project_viewer on project q via group all_users_w)" in why("u-wsu", "read", "q")
}

test_inactive_admin_denied if {
	not allowed("u-off", "read", "p")
}

test_unknown_project if {
	not allowed("u-adm", "read", "zzz")
	"project zzz does not exist in org t" in why("u-adm", "read", "zzz")
}
