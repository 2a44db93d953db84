package admin_test

import (
	"net/http"
	"testing"

	"github.com/verdict-pdp/verdict/internal/admin"
	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Every write appears in the audit, with actor, action, target and the
// justification given in a header or in the body.
func TestAuditRecordsEveryWrite(t *testing.T) {
	h := setup(t)
	org := h.putOrg(orgDoc(t, demoFile))
	base := "/admin/v1/orgs/" + org
	writes := []struct {
		method, path string
		body         any
		hdr          []string
		action       string
		target       string
		why          string
	}{
		{"POST", "/roles", map[string]any{"name": "Auditor", "justification": "SOX-12"}, nil, "role.created", "role/Auditor", "SOX-12"},
		{"POST", "/users", map[string]any{"id": "u-z", "username": "z"}, []string{"X-Justification", "ticket 7"}, "user.created", "user/u-z", "ticket 7"},
		{"POST", "/groups/Pilot%20users/members", map[string]any{"users": []string{"u-z"}}, nil, "group.members_added", "group/Pilot users", ""},
		{"PUT", "/projects/mortgage/environments/prod/shares/users/u-z", map[string]any{"roles": []string{"Customer"}}, nil,
			"share.put", "project/mortgage/environments/prod/shares/users/u-z", ""},
		{"PUT", "/projects/mortgage/environments/uat/active-policy/default", map[string]any{"build": "m1"}, nil,
			"active_policy.default_set", "project/mortgage/environments/uat/active_policy/default", ""},
		{"PUT", "/business-filters/by_region", map[string]any{"field": "r.region", "attribute": "region"}, nil, "business_filter.put", "business_filter/by_region", ""},
		{"DELETE", "/users/u-z", nil, nil, "user.deleted", "user/u-z", ""},
	}
	for _, w := range writes {
		r := h.do(w.method, base+w.path, w.body, w.hdr...)
		if r.status >= 300 {
			t.Fatalf("%s %s: %d %s", w.method, w.path, r.status, r.body)
		}
	}
	var all []store.AuditEntry
	cursor := ""
	for {
		var p domain.Page[store.AuditEntry]
		h.do("GET", base+"/audit?limit=3&cursor="+cursor, nil).want(http.StatusOK).decode(&p)
		all = append(all, p.Items...)
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if len(all) != len(writes)+1 {
		t.Fatalf("%d audit entries for %d writes", len(all), len(writes)+1)
	}
	for i, w := range writes {
		e := all[i+1]
		if e.Actor != "tester" || e.Action != w.action || e.Target != w.target || e.Justification != w.why || e.Revision != int64(i+2) {
			t.Errorf("entry %d: %+v, want %s %s %q", i+1, e, w.action, w.target, w.why)
		}
	}
	changes, err := h.st.ReadChanges(t.Context(), org, "0", 0)
	if err != nil || len(changes) != len(writes)+1 {
		t.Fatalf("changes %+v %v", changes, err)
	}
	if c := changes[4]; c.Kind != "share.put" || len(c.Users) != 1 || c.Users[0] != "u-z" || c.Projects[0] != "mortgage" {
		t.Fatalf("share change %+v: must name the user and the project", c)
	}
}

// A refused call answers 403 and changes nothing; each route asks the
// permission docs/admin-api.md lists.
func TestAuthorization(t *testing.T) {
	h := setup(t)
	org := h.putOrg(orgDoc(t, demoFile))
	base := "/admin/v1/orgs/" + org
	rev := h.revision(org)
	h.authz.refuse = true
	h.do("POST", base+"/users", map[string]any{"id": "u-z", "username": "z"}).wantError(http.StatusForbidden, verr.Forbidden, "")
	h.do("DELETE", base+"/roles/Teller", nil).wantError(http.StatusForbidden, verr.Forbidden, "")
	h.do("PUT", base, orgDoc(t, demoFile)).wantError(http.StatusForbidden, verr.Forbidden, "")
	h.do("GET", base+"/users", nil).wantError(http.StatusForbidden, verr.Forbidden, "")
	h.authz.refuse = false
	if h.revision(org) != rev {
		t.Fatal("a refused call changed the org")
	}
	h.do("GET", base+"/users/u-z", nil).wantError(http.StatusNotFound, verr.NotFound, "user")

	orgCheck := func(a string) admin.Check { return admin.Check{ResourceType: "org", ResourceID: org, Action: a} }
	proj := func(a string) admin.Check {
		return admin.Check{ResourceType: "project", ResourceID: "mortgage", Action: a}
	}
	for _, c := range []struct {
		method, path string
		want         admin.Check
	}{
		{"GET", "/users", orgCheck(admin.UsersRead)},
		{"PATCH", "/users/u-tom", orgCheck(admin.UsersWrite)},
		{"GET", "/roles", orgCheck(admin.RolesRead)},
		{"POST", "/roles", orgCheck(admin.RolesWrite)},
		{"GET", "/groups/x/members", orgCheck(admin.GroupsRead)},
		{"POST", "/groups/x/members", orgCheck(admin.GroupsWrite)},
		{"GET", "/projects/mortgage/environments/prod/shares", proj(admin.ProjectRead)},
		{"PUT", "/projects/mortgage/environments/prod/shares/groups/x", proj(admin.ManageAccess)},
		{"PUT", "/projects/mortgage/flow-permissions", proj(admin.ManageAccess)},
		{"POST", "/projects/mortgage/designer-roles", proj(admin.ManageAccess)},
		{"POST", "/projects/mortgage/owner", proj(admin.ManageAccess)},
		{"PUT", "/projects/mortgage/environments/prod/active-policy/default", proj(admin.ChangeActivePolicy)},
		{"DELETE", "/projects/mortgage/environments/prod/active-policy/overrides/group/x", proj(admin.ChangeActivePolicy)},
		{"POST", "/projects/mortgage/builds", proj(admin.CreateBuild)},
		{"GET", "/projects/mortgage/builds", proj(admin.ProjectRead)},
		{"POST", "/projects", orgCheck(admin.UsersWrite)},
		{"DELETE", "/projects/mortgage", orgCheck(admin.UsersWrite)},
		{"POST", "/designer-groups", orgCheck(admin.UsersWrite)},
		{"POST", "/designer-roles", orgCheck(admin.UsersWrite)},
		{"PUT", "/business-filters/f", orgCheck(admin.UsersWrite)},
		{"GET", "/audit", orgCheck(admin.UsersRead)},
		{"GET", "", orgCheck(admin.UsersRead)},
		{"DELETE", "", orgCheck(admin.UsersWrite)},
	} {
		h.authz.refuse = true
		h.do(c.method, base+c.path, "{}").want(http.StatusForbidden)
		if got := h.authz.last(); got != c.want {
			t.Errorf("%s %s asked %+v, want %+v", c.method, c.path, got, c.want)
		}
	}
	h.authz.refuse = false
	if h.revision(org) != rev {
		t.Fatal("a refused call changed the org")
	}
}
