package admin_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Deleting a role removes it, in one write, from every share (user and
// group), legacy grant, flow permission and deprecated role override;
// builds keep listing it.
func TestDeleteRoleCascades(t *testing.T) {
	for _, c := range []struct{ name, file, role string }{{"demo", demoFile, "Teller"}, {"acme", acmeFile, "Clerk"}} {
		t.Run(c.name, func(t *testing.T) {
			h := setup(t)
			doc := editDoc(t, orgDoc(t, c.file), func(o map[string]any) {
				user := o["users"].([]any)[0].(map[string]any)["id"]
				o["legacy_grants"] = append(o["legacy_grants"].([]any), map[string]any{"user": user, "role": c.role})
				prod := o["projects"].([]any)[0].(map[string]any)["environments"].(map[string]any)["prod"].(map[string]any)
				ap := prod["active_policy"].(map[string]any)
				ap["overrides"] = append(ap["overrides"].([]any), map[string]any{"type": "role", "role": c.role, "policy": map[string]any{"latest_on_branch": "main"}})
			})
			org := h.putOrg(doc)
			before := h.getOrgLoose(org)
			if !usesRole(before, c.role) {
				t.Fatalf("the fixture does not use %s", c.role)
			}
			rev := h.revision(org)

			h.do("DELETE", "/admin/v1/orgs/"+org+"/roles/"+c.role, nil).want(http.StatusNoContent)

			after := h.getOrgLoose(org)
			if usesRole(after, c.role) {
				t.Fatalf("%s is still used after its deletion", c.role)
			}
			if slices.ContainsFunc(after.Roles, func(r orgdoc.Role) bool { return r.Name == c.role }) {
				t.Fatal("the role is still in the catalog")
			}
			if got := h.revision(org); got != rev+1 {
				t.Fatalf("revision %d -> %d: the deletion was not one write", rev, got)
			}
			inBuild := false
			for _, p := range after.Projects {
				for _, b := range p.Builds {
					inBuild = inBuild || slices.Contains(b.Roles, c.role)
				}
			}
			if !inBuild {
				t.Fatal("builds are immutable and must keep listing the role")
			}
			// Shares that only gave the role are gone, others kept their other roles.
			if n, m := countShares(before), countShares(after); m >= n {
				t.Fatalf("shares %d -> %d", n, m)
			}
			h.do("GET", "/admin/v1/orgs/"+org+"/roles/"+c.role, nil).wantError(http.StatusNotFound, verr.NotFound, "role")
			h.do("DELETE", "/admin/v1/orgs/"+org+"/roles/"+c.role, nil).wantError(http.StatusNotFound, verr.NotFound, "role")
		})
	}
}

// getOrgLoose reads the exported org without validating it: after a role
// deletion, builds list a role the catalog no longer has.
func (h *harness) getOrgLoose(org string) *orgdoc.Org {
	h.t.Helper()
	var o orgdoc.Org
	if err := json.Unmarshal(h.do("GET", "/admin/v1/orgs/"+org, nil).want(http.StatusOK).body, &o); err != nil {
		h.t.Fatal(err)
	}
	return &o
}

// usesRole reports whether anything but a build names role.
func usesRole(o *orgdoc.Org, role string) bool {
	for _, g := range o.LegacyGrants {
		if g.Role == role {
			return true
		}
	}
	for _, p := range o.Projects {
		for _, e := range p.Environments {
			for _, s := range e.Shares {
				if slices.Contains(s.Roles, role) {
					return true
				}
			}
			if e.ActivePolicy != nil {
				for _, ov := range e.ActivePolicy.Overrides {
					if ov.Role == role {
						return true
					}
				}
			}
		}
		if fp := p.FlowPermissions; fp != nil {
			if fp.Defaults != nil && fp.Defaults.Roles[role] != "" {
				return true
			}
			for _, f := range fp.Flows {
				if f.Roles[role] != "" {
					return true
				}
			}
		}
	}
	return false
}

func countShares(o *orgdoc.Org) int {
	n := 0
	for _, p := range o.Projects {
		for _, e := range p.Environments {
			n += len(e.Shares)
		}
	}
	return n
}

func TestRoleCatalog(t *testing.T) {
	h := setup(t)
	org := h.putOrg(orgDoc(t, demoFile))
	base := "/admin/v1/orgs/" + org + "/roles"
	h.do("POST", base, map[string]string{"name": "Auditor", "description": "reads"}).want(http.StatusCreated)
	h.do("POST", base, map[string]string{"name": "Auditor"}).wantError(http.StatusConflict, verr.Conflict, "name")
	h.do("POST", base, map[string]string{"name": "AuthenticatedUser"}).wantError(http.StatusUnprocessableEntity, verr.Invalid, "name")
	h.do("POST", base, map[string]string{"name": "X", "Description": "case matters"}).wantError(http.StatusBadRequest, verr.InvalidInput, "Description")
	r := h.do("GET", base+"/Auditor", nil).want(http.StatusOK)
	h.do("PATCH", base+"/Auditor", map[string]string{"description": "audits"}, "If-Match", r.header.Get("ETag")).want(http.StatusOK)
	var got orgdoc.Role
	h.do("GET", base+"/Auditor", nil).want(http.StatusOK).decode(&got)
	if got.Description != "audits" {
		t.Fatalf("role %+v", got)
	}
	var page struct{ Items []orgdoc.Role }
	h.do("GET", base, nil).want(http.StatusOK).decode(&page)
	if len(page.Items) != 4 || page.Items[3].Name != "Auditor" {
		t.Fatalf("roles %+v: want the demo's three, then Auditor", page.Items)
	}
	h.exported(org)
}
