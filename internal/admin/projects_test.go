package admin_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

func TestProjectsAndBuilds(t *testing.T) {
	h := setup(t)
	org := h.putOrg(orgDoc(t, demoFile))
	base := "/admin/v1/orgs/" + org + "/projects"
	e := h.do("POST", base, map[string]string{"id": "cards", "workspace": "retail"}).wantError(http.StatusUnprocessableEntity, verr.Invalid, "workspace")
	if !slices.Equal(e.Allowed, []string{"banking"}) {
		t.Fatalf("allowed %v", e.Allowed)
	}
	h.do("POST", base, map[string]string{"id": "a:b", "workspace": "banking"}).wantError(http.StatusUnprocessableEntity, verr.Invalid, "id")
	h.do("POST", base, map[string]string{"id": "mortgage", "workspace": "banking"}).wantError(http.StatusConflict, verr.Conflict, "id")
	h.do("POST", base, map[string]string{"id": "cards", "workspace": "banking"}).want(http.StatusCreated)

	build := func(id string, roles []string, flowRoles []string) map[string]any {
		return map[string]any{"id": id, "branch": "main", "created": "2026-08-01T00:00:00Z", "roles": roles,
			"ui_flows": []any{map[string]any{"id": "f", "roles": flowRoles}}, "processes": []any{}}
	}
	h.do("POST", base+"/cards/builds", build("c1", []string{"Customer", "Ghost"}, nil)).wantError(http.StatusUnprocessableEntity, verr.Invalid, "roles[1]")
	h.do("POST", base+"/cards/builds", build("c1", []string{"Customer"}, []string{"Teller"})).wantError(http.StatusUnprocessableEntity, verr.Invalid, "ui_flows[0].roles[0]")
	h.do("POST", base+"/cards/builds", map[string]any{"id": "c1", "branch": "main", "created": "yesterday", "roles": []string{}}).
		wantError(http.StatusUnprocessableEntity, verr.Invalid, "created")
	h.do("POST", base+"/cards/builds", map[string]any{"id": "c1", "extra": 1}).wantError(http.StatusBadRequest, verr.InvalidInput, "extra")
	h.do("POST", base+"/nope/builds", build("c1", []string{"Customer"}, nil)).wantError(http.StatusNotFound, verr.NotFound, "project")
	h.do("POST", base+"/cards/builds", build("c1", []string{"Customer", "Teller"}, []string{"Teller"})).want(http.StatusCreated)
	// Immutable: the same id again is a conflict, even with the same manifest.
	h.do("POST", base+"/cards/builds", build("c1", []string{"Customer", "Teller"}, []string{"Teller"})).wantError(http.StatusConflict, verr.Conflict, "id")
	var builds domain.Page[domain.BuildSummary]
	h.do("GET", base+"/cards/builds", nil).want(http.StatusOK).decode(&builds)
	if len(builds.Items) != 1 || builds.Items[0] != (domain.BuildSummary{ID: "c1", Branch: "main", Created: "2026-08-01T00:00:00Z"}) {
		t.Fatalf("builds %+v", builds)
	}
	var b orgdoc.Build
	h.do("GET", base+"/cards/builds/c1", nil).want(http.StatusOK).decode(&b)
	if !slices.Equal(b.Roles, []string{"Customer", "Teller"}) {
		t.Fatalf("build %+v", b)
	}

	// Environments come into being with their first setting.
	h.do("PUT", base+"/cards/environments/prod/active-policy/default", map[string]string{"build": "c1"}).want(http.StatusOK)
	h.do("PUT", base+"/cards/environments/prod/shares/users/u-tom", map[string]any{"roles": []string{"Teller"}}).want(http.StatusCreated)
	h.do("PUT", base+"/cards/environments/dev/shares/users/u-tom", map[string]any{"roles": []string{"Teller"}}).wantError(http.StatusNotFound, verr.NotFound, "environment")
	var p domain.ProjectRecord
	h.do("GET", base+"/cards", nil).want(http.StatusOK).decode(&p)
	if p.Workspace != "banking" || !slices.Equal(p.Environments, []string{"prod"}) {
		t.Fatalf("project %+v", p)
	}
	h.do("POST", base+"/cards/designer-roles", map[string]any{"subject": map[string]string{"user": "u-lee"}, "role": "project_owner"}).want(http.StatusCreated)
	h.exported(org)

	h.do("DELETE", base+"/cards", nil).want(http.StatusNoContent)
	o, _ := h.exported(org)
	if len(o.Projects) != 1 || slices.ContainsFunc(o.DesignerRoles, func(d orgdoc.DesignerRole) bool { return d.Scope.Project == "cards" }) {
		t.Fatalf("after deleting cards: projects %d, designer roles %+v", len(o.Projects), o.DesignerRoles)
	}
	keys, _ := h.st.Client().Keys(t.Context(), "v:{demo}:*cards*").Result()
	if len(keys) != 0 {
		t.Fatalf("keys left: %v", keys)
	}
}

func TestFlowPermissionsAndFilters(t *testing.T) {
	h := setup(t)
	org := h.putOrg(orgDoc(t, demoFile))
	fp := "/admin/v1/orgs/" + org + "/projects/mortgage/flow-permissions"
	cur := h.do("GET", fp, nil).want(http.StatusOK)
	h.do("PUT", fp, map[string]any{"flows": map[string]any{"x": map[string]any{"users": map[string]string{"u-ghost": "grant"}}}}).
		wantError(http.StatusUnprocessableEntity, verr.Invalid, "flows.x.users.u-ghost")
	h.do("PUT", fp, map[string]any{"flows": map[string]any{"x": map[string]any{"roles": map[string]string{"Teller": "maybe"}}}}).
		wantError(http.StatusUnprocessableEntity, verr.Invalid, "flows.x.roles.Teller")
	h.do("PUT", fp, map[string]any{"defaults": map[string]any{"roles": map[string]string{"Ghost": "deny"}}}).
		wantError(http.StatusUnprocessableEntity, verr.Invalid, "defaults.roles.Ghost")
	next := map[string]any{
		"defaults": map[string]any{"roles": map[string]string{"NonAuthenticatedUser": "deny"}},
		"flows":    map[string]any{"credit_check": map[string]any{"users": map[string]string{"u-tom": "deny"}, "roles": map[string]string{"Teller": "grant", "AuthenticatedUser": "deny"}}},
	}
	h.do("PUT", fp, next, "If-Match", `"stale"`).wantError(http.StatusPreconditionFailed, verr.PreconditionFailed, "If-Match")
	h.do("PUT", fp, next, "If-Match", cur.header.Get("ETag")).want(http.StatusOK)
	o, _ := h.exported(org)
	if o.Projects[0].FlowPermissions.Flows["credit_check"].Users["u-tom"] != "deny" {
		t.Fatalf("flow permissions %+v", o.Projects[0].FlowPermissions)
	}

	f := "/admin/v1/orgs/" + org + "/business-filters/by_region"
	h.do("PUT", f, map[string]string{"field": "t.region"}).wantError(http.StatusUnprocessableEntity, verr.Invalid, "attribute")
	h.do("PUT", f, map[string]string{"field": "t.region", "attribute": "region"}).want(http.StatusCreated)
	h.do("PUT", f, map[string]string{"field": "t.area", "attribute": "region"}).want(http.StatusOK)
	var got orgdoc.BusinessFilter
	h.do("GET", f, nil).want(http.StatusOK).decode(&got)
	if got != (orgdoc.BusinessFilter{ID: "by_region", Field: "t.area", Attribute: "region"}) {
		t.Fatalf("filter %+v", got)
	}
	h.do("DELETE", f, nil).want(http.StatusNoContent)
	h.do("GET", f, nil).wantError(http.StatusNotFound, verr.NotFound, "business_filter")
	h.exported(org)
}
