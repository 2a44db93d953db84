package admin_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// A share of a role the active build does not list is refused with the
// build's catalog in "allowed"; nothing changes.
func TestShareOutsideActiveBuild(t *testing.T) {
	for _, c := range []struct {
		name, file, project, user, role string
		catalog                         []string
	}{
		// demo: prod serves m1 (by build id); Auditor is created below.
		{"demo", demoFile, "mortgage", "u-tom", "Auditor", []string{"Customer", "Teller", "Supervisor"}},
		// acme: loans/prod serves b1, which does not list Auditor (b2 does).
		{"acme", acmeFile, "loans", "u-hank", "Auditor", []string{"User", "Clerk", "Manager"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := setup(t)
			org := h.putOrg(orgDoc(t, c.file))
			base := "/admin/v1/orgs/" + org
			if c.name == "demo" {
				h.do("POST", base+"/roles", map[string]string{"name": c.role}).want(http.StatusCreated)
			}
			rev := h.revision(org)
			share := base + "/projects/" + c.project + "/environments/prod/shares/users/" + c.user
			e := h.do("PUT", share, map[string]any{"roles": []string{c.catalog[0], c.role}}).
				wantError(http.StatusUnprocessableEntity, verr.Invalid, "roles")
			if !slices.Equal(e.Allowed, c.catalog) {
				t.Fatalf("allowed %v, want %v", e.Allowed, c.catalog)
			}
			if h.revision(org) != rev {
				t.Fatal("a refused share changed the org")
			}
			h.do("PUT", share, map[string]any{"roles": []string{"Nope"}}).wantError(http.StatusUnprocessableEntity, verr.Invalid, "roles[0]")
			h.do("PUT", share, map[string]any{"roles": []string{}}).wantError(http.StatusUnprocessableEntity, verr.Invalid, "roles")
			h.do("PUT", base+"/projects/"+c.project+"/environments/prod/shares/users/u-nobody", map[string]any{"roles": c.catalog[:1]}).
				wantError(http.StatusUnprocessableEntity, verr.Invalid, "subject.user")
			h.do("PUT", base+"/projects/"+c.project+"/environments/nowhere/shares/users/"+c.user, map[string]any{"roles": c.catalog[:1]}).
				wantError(http.StatusNotFound, verr.NotFound, "environment")

			// A role of the catalog is shared (201 new, 200 replaced) and listed.
			h.do("PUT", share, map[string]any{"roles": c.catalog[:1]}).want(http.StatusCreated)
			r := h.do("PUT", share, map[string]any{"roles": c.catalog[:2]}).want(http.StatusOK)
			g := h.do("GET", share, nil).want(http.StatusOK)
			if g.header.Get("ETag") != r.header.Get("ETag") {
				t.Fatal("the ETag of a write differs from the GET's")
			}
			var page domain.Page[orgdoc.Share]
			h.do("GET", base+"/projects/"+c.project+"/environments/prod/shares", nil).want(http.StatusOK).decode(&page)
			last := page.Items[len(page.Items)-1]
			if last.Subject.User != c.user || !slices.Equal(last.Roles, c.catalog[:2]) {
				t.Fatalf("last share %+v", last)
			}
			h.do("DELETE", share, nil, "If-Match", `"stale"`).wantError(http.StatusPreconditionFailed, verr.PreconditionFailed, "If-Match")
			h.do("DELETE", share, nil, "If-Match", g.header.Get("ETag")).want(http.StatusNoContent)
			h.do("GET", share, nil).wantError(http.StatusNotFound, verr.NotFound, "share")
			h.exported(org)
		})
	}
}

// With latest_on_branch, the catalog is that of the newest build on the branch.
func TestShareLatestOnBranch(t *testing.T) {
	h := setup(t)
	org := h.putOrg(orgDoc(t, demoFile))
	base := "/admin/v1/orgs/" + org + "/projects/mortgage"
	h.do("POST", "/admin/v1/orgs/"+org+"/roles", map[string]string{"name": "Auditor"}).want(http.StatusCreated)
	share := base + "/environments/uat/shares/groups/Pilot%20users"
	h.do("PUT", share, map[string]any{"roles": []string{"Auditor"}}).wantError(http.StatusUnprocessableEntity, verr.Invalid, "roles")
	build := map[string]any{"id": "m3", "branch": "main", "created": "2026-07-01T10:00:00Z",
		"roles": []string{"Customer", "Auditor"}, "ui_flows": []any{}, "processes": []any{}}
	h.do("POST", base+"/builds", build).want(http.StatusCreated)
	h.do("POST", base+"/builds", build).wantError(http.StatusConflict, verr.Conflict, "id")
	h.do("PUT", share, map[string]any{"roles": []string{"Auditor"}}).want(http.StatusCreated)
	h.exported(org)
}

func TestActivePolicy(t *testing.T) {
	h := setup(t)
	doc := editDoc(t, orgDoc(t, demoFile), func(o map[string]any) {
		prod := o["projects"].([]any)[0].(map[string]any)["environments"].(map[string]any)["prod"].(map[string]any)
		ap := prod["active_policy"].(map[string]any)
		ap["overrides"] = append(ap["overrides"].([]any), map[string]any{"type": "role", "role": "Teller", "policy": map[string]any{"build": "m2"}})
	})
	org := h.putOrg(doc)
	ap := "/admin/v1/orgs/" + org + "/projects/mortgage/environments/prod/active-policy"
	var pol domain.ActivePolicy
	got := h.do("GET", ap, nil).want(http.StatusOK)
	got.decode(&pol)
	if len(pol.Overrides) != 2 || pol.Overrides[1].Type != "role" || !pol.Overrides[1].Deprecated || pol.Overrides[0].Deprecated {
		t.Fatalf("overrides %+v: the role override must be listed as deprecated", pol.Overrides)
	}
	etag := got.header.Get("ETag")

	// New role overrides are refused; existing ones can be deleted.
	e := h.do("PUT", ap+"/overrides/role/Supervisor", map[string]any{"policy": map[string]any{"build": "m2"}}).
		wantError(http.StatusUnprocessableEntity, verr.Invalid, "type")
	if e.Message != "role overrides are deprecated: use a group override" {
		t.Fatalf("message %q", e.Message)
	}
	// Group overrides need a priority, unique in the environment, and a known group.
	h.do("PUT", ap+"/overrides/group/Tellers%20north", map[string]any{"policy": map[string]any{"build": "m2"}}).
		wantError(http.StatusUnprocessableEntity, verr.Invalid, "priority")
	h.do("PUT", ap+"/overrides/group/Tellers%20north", map[string]any{"priority": 1, "policy": map[string]any{"build": "m2"}}).
		wantError(http.StatusConflict, verr.Conflict, "priority")
	h.do("PUT", ap+"/overrides/group/Nope", map[string]any{"priority": 5, "policy": map[string]any{"build": "m2"}}).
		wantError(http.StatusUnprocessableEntity, verr.Invalid, "group")
	h.do("PUT", ap+"/overrides/group/Tellers%20north", map[string]any{"priority": 2, "policy": map[string]any{"build": "m9"}}).
		wantError(http.StatusUnprocessableEntity, verr.Invalid, "policy.build")
	// Replacing a group's own override may keep its priority.
	h.do("PUT", ap+"/overrides/group/Pilot%20users", map[string]any{"priority": 1, "policy": map[string]any{"build": "m2"}}).want(http.StatusOK)
	h.do("PUT", ap+"/overrides/group/Tellers%20north", map[string]any{"priority": 2, "policy": map[string]any{"build": "m2"}}).want(http.StatusOK)
	// Username overrides: one per known username, no priority.
	h.do("PUT", ap+"/overrides/username/nobody", map[string]any{"policy": map[string]any{"build": "m2"}}).
		wantError(http.StatusUnprocessableEntity, verr.Invalid, "username")
	h.do("PUT", ap+"/overrides/username/maria", map[string]any{"priority": 1, "policy": map[string]any{"build": "m2"}}).
		wantError(http.StatusUnprocessableEntity, verr.Invalid, "priority")
	h.do("PUT", ap+"/overrides/username/maria", map[string]any{"policy": map[string]any{"latest_on_branch": "main"}}).want(http.StatusOK)

	// The ETag read before these writes is stale now.
	h.do("DELETE", ap+"/overrides/role/Teller", nil, "If-Match", etag).wantError(http.StatusPreconditionFailed, verr.PreconditionFailed, "If-Match")
	pol = domain.ActivePolicy{}
	h.do("DELETE", ap+"/overrides/role/Teller", nil).want(http.StatusOK).decode(&pol)
	if len(pol.Overrides) != 3 || slices.ContainsFunc(pol.Overrides, func(o domain.OverrideView) bool { return o.Deprecated }) {
		t.Fatalf("overrides %+v", pol.Overrides)
	}
	h.do("PUT", ap+"/default", map[string]any{"build": "m9"}).wantError(http.StatusUnprocessableEntity, verr.Invalid, "build")
	h.do("PUT", ap+"/default", map[string]any{"build": "m2", "latest_on_branch": "main"}).wantError(http.StatusUnprocessableEntity, verr.Invalid, "")
	h.do("PUT", ap+"/default", map[string]any{"build": "m2"}).want(http.StatusOK)
	o, _ := h.exported(org)
	if o.Projects[0].Environments["prod"].ActivePolicy.Default.Build != "m2" {
		t.Fatal("the default did not change")
	}
	h.do("DELETE", ap, nil).want(http.StatusNoContent)
	h.do("GET", ap, nil).wantError(http.StatusNotFound, verr.NotFound, "active_policy")
	h.do("PUT", ap+"/overrides/username/maria", map[string]any{"policy": map[string]any{"build": "m2"}}).
		wantError(http.StatusUnprocessableEntity, verr.Invalid, "active_policy")
	h.exported(org)
}
