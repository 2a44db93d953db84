package admin_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// owners lists the project_owner assignments of a project.
func (h *harness) owners(org, project string) []domain.DesignerAssignment {
	h.t.Helper()
	var page domain.Page[domain.DesignerAssignment]
	h.do("GET", "/admin/v1/orgs/"+org+"/projects/"+project+"/designer-roles", nil).want(http.StatusOK).decode(&page)
	var out []domain.DesignerAssignment
	for _, da := range page.Items {
		if da.Role == orgdoc.DesignerProjectOwner {
			out = append(out, da)
		}
	}
	return out
}

// A second project_owner is refused; ownership moves through a transfer.
func TestProjectOwner(t *testing.T) {
	for _, c := range []struct{ name, file, project, owner, next string }{
		{"demo", demoFile, "mortgage", "u-lee", "u-ada"},
		{"acme", acmeFile, "loans", "u-paul", "u-dan"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := setup(t)
			org := h.putOrg(orgDoc(t, c.file))
			base := "/admin/v1/orgs/" + org + "/projects/" + c.project
			if o := h.owners(org, c.project); len(o) != 1 || o[0].Subject.User != c.owner {
				t.Fatalf("owners %+v", o)
			}
			rev := h.revision(org)
			h.do("POST", base+"/designer-roles", map[string]any{"subject": map[string]string{"user": c.next}, "role": "project_owner"}).
				wantError(http.StatusConflict, verr.Conflict, "role")
			h.do("POST", base+"/owner", map[string]string{"user": "u-ghost"}).wantError(http.StatusUnprocessableEntity, verr.Invalid, "user")
			if h.revision(org) != rev {
				t.Fatal("a refused assignment changed the org")
			}
			var da domain.DesignerAssignment
			h.do("POST", base+"/owner", map[string]string{"user": c.next}, "X-Justification", "handover").want(http.StatusOK).decode(&da)
			if o := h.owners(org, c.project); len(o) != 1 || o[0].Subject.User != c.next || o[0].ID != da.ID {
				t.Fatalf("owners after the transfer %+v", o)
			}
			if h.revision(org) != rev+1 {
				t.Fatal("the transfer was not one write")
			}
			h.exported(org)
			// The org route refuses project scopes; the project route assigns them.
			h.do("POST", "/admin/v1/orgs/"+org+"/designer-roles", map[string]any{"subject": map[string]string{"user": c.owner},
				"role": "project_viewer", "scope": map[string]string{"project": c.project}}).wantError(http.StatusBadRequest, verr.InvalidInput, "scope.project")
			h.do("POST", base+"/designer-roles", map[string]any{"subject": map[string]string{"user": c.owner}, "role": "org_admin"}).
				wantError(http.StatusUnprocessableEntity, verr.Invalid, "scope")
			h.do("POST", base+"/designer-roles", map[string]any{"subject": map[string]string{"user": c.owner}, "role": "project_viewer"}).
				want(http.StatusCreated).decode(&da)
			h.do("POST", base+"/designer-roles", map[string]any{"subject": map[string]string{"user": c.owner}, "role": "project_viewer"}).
				wantError(http.StatusConflict, verr.Conflict, "role")
			id := strconv.FormatInt(da.ID, 10)
			h.do("DELETE", "/admin/v1/orgs/"+org+"/designer-roles/"+id, nil).wantError(http.StatusNotFound, verr.NotFound, "designer_role")
			h.do("DELETE", base+"/designer-roles/"+id, nil).want(http.StatusNoContent)
			h.exported(org)
		})
	}
}

func TestDesignerGroupsAndOrgRoles(t *testing.T) {
	h := setup(t)
	org := h.putOrg(orgDoc(t, demoFile))
	base := "/admin/v1/orgs/" + org
	h.do("POST", base+"/designer-groups", map[string]any{"name": "all_users_banking"}).wantError(http.StatusUnprocessableEntity, verr.Invalid, "name")
	h.do("POST", base+"/designer-groups", map[string]any{"name": "ops", "members": []string{"u-ghost"}}).wantError(http.StatusUnprocessableEntity, verr.Invalid, "members[0]")
	h.do("POST", base+"/designer-groups", map[string]any{"name": "ops", "members": []string{"u-ada"}}).want(http.StatusCreated)
	h.do("POST", base+"/designer-groups", map[string]any{"name": "ops"}).wantError(http.StatusConflict, verr.Conflict, "name")
	h.do("POST", base+"/designer-groups/ops/members", map[string]any{"users": []string{"u-tom"}}).want(http.StatusNoContent)

	var da domain.DesignerAssignment
	h.do("POST", base+"/designer-roles", map[string]any{"subject": map[string]string{"group": "ops"}, "role": "workspace_admin",
		"scope": map[string]string{"workspace": "banking"}}).want(http.StatusCreated).decode(&da)
	h.do("POST", base+"/designer-roles", map[string]any{"subject": map[string]string{"group": "all_users_banking"}, "role": "theme_editor",
		"scope": map[string]string{"workspace": "banking"}}).want(http.StatusCreated)
	h.do("POST", base+"/designer-roles", map[string]any{"subject": map[string]string{"group": "all_users_nowhere"}, "role": "theme_editor",
		"scope": map[string]string{"workspace": "banking"}}).wantError(http.StatusUnprocessableEntity, verr.Invalid, "subject.group")
	h.do("POST", base+"/designer-roles", map[string]any{"subject": map[string]string{"user": "u-tom"}, "role": "workspace_admin",
		"scope": map[string]string{"workspace": "nowhere"}}).wantError(http.StatusUnprocessableEntity, verr.Invalid, "scope.workspace")
	e := h.do("POST", base+"/designer-roles", map[string]any{"subject": map[string]string{"user": "u-tom"}, "role": "emperor",
		"scope": map[string]any{"org": true}}).wantError(http.StatusUnprocessableEntity, verr.Invalid, "role")
	if len(e.Allowed) != 9 {
		t.Fatalf("allowed %v", e.Allowed)
	}
	g := h.do("GET", base+"/designer-roles/"+strconv.FormatInt(da.ID, 10), nil).want(http.StatusOK)
	o, _ := h.exported(org)
	if len(o.DesignerGroups) != 2 || len(o.DesignerGroups[1].Members) != 2 || len(o.DesignerRoles) != 6 {
		t.Fatalf("designer groups %+v roles %+v", o.DesignerGroups, o.DesignerRoles)
	}
	// Deleting the group takes its memberships and assignments with it.
	h.do("DELETE", base+"/designer-groups/ops", nil).want(http.StatusNoContent)
	h.do("GET", base+"/designer-roles/"+strconv.FormatInt(da.ID, 10), nil, "If-None-Match", g.header.Get("ETag")).
		wantError(http.StatusNotFound, verr.NotFound, "designer_role")
	o, _ = h.exported(org)
	if len(o.DesignerGroups) != 1 || len(o.DesignerRoles) != 5 {
		t.Fatalf("designer groups %+v roles %+v", o.DesignerGroups, o.DesignerRoles)
	}
	if dg, err := h.st.Client().HGet(t.Context(), h.st.OrgPrefix(org)+"dgroups_of", "u-ada").Result(); err == nil && strings.Contains(dg, "ops") {
		t.Fatalf("u-ada still in %s", dg)
	}
}
