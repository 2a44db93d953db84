package admin_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

func TestStaleIfMatch(t *testing.T) {
	h := setup(t)
	org := h.putOrg(orgDoc(t, demoFile))
	u := "/admin/v1/orgs/" + org + "/users/u-tom"
	first := h.do("GET", u, nil).want(http.StatusOK).header.Get("ETag")
	second := h.do("PATCH", u, map[string]any{"email": "t@demo.example"}, "If-Match", first).want(http.StatusOK).header.Get("ETag")
	if second == first || h.do("GET", u, nil).header.Get("ETag") != second {
		t.Fatal("the ETag must follow the record")
	}
	rev := h.revision(org)
	h.do("PATCH", u, map[string]any{"email": "x@demo.example"}, "If-Match", first).wantError(http.StatusPreconditionFailed, verr.PreconditionFailed, "If-Match")
	h.do("POST", u+"/disable", nil, "If-Match", first).wantError(http.StatusPreconditionFailed, verr.PreconditionFailed, "If-Match")
	h.do("DELETE", u, nil, "If-Match", first).wantError(http.StatusPreconditionFailed, verr.PreconditionFailed, "If-Match")
	if h.revision(org) != rev {
		t.Fatal("a write with a stale If-Match changed the org")
	}
	var got orgdoc.User
	h.do("GET", u, nil).want(http.StatusOK).decode(&got)
	if got.Email != "t@demo.example" || got.Status != "active" {
		t.Fatalf("user %+v", got)
	}
	h.do("POST", u+"/disable", nil, "If-Match", `W/`+second).wantError(http.StatusPreconditionFailed, verr.PreconditionFailed, "If-Match")
	h.do("POST", u+"/disable", nil, "If-Match", `"other", `+second).want(http.StatusOK)
}

func TestUserLifecycle(t *testing.T) {
	h := setup(t)
	org := h.putOrg(orgDoc(t, demoFile))
	base := "/admin/v1/orgs/" + org + "/users"
	var u orgdoc.User
	h.do("POST", base, map[string]any{"id": "u-new", "username": "newbie", "attributes": map[string][]string{"branch": {"south"}}}).
		want(http.StatusCreated).decode(&u)
	if u.Status != orgdoc.StatusInvited {
		t.Fatalf("a new user is invited, not %q", u.Status)
	}
	h.do("POST", base, map[string]any{"id": "u-new", "username": "other"}).wantError(http.StatusConflict, verr.Conflict, "id")
	h.do("POST", base, map[string]any{"id": "u-other", "username": "newbie"}).wantError(http.StatusConflict, verr.Conflict, "username")
	e := h.do("POST", base, map[string]any{"id": "u-x", "username": "x", "status": "zombie"}).wantError(http.StatusUnprocessableEntity, verr.Invalid, "status")
	if len(e.Allowed) != 3 {
		t.Fatalf("allowed %v", e.Allowed)
	}
	h.do("POST", base, map[string]any{"id": "u-x", "username": "x", "last_seen": "now"}).wantError(http.StatusBadRequest, verr.InvalidInput, "last_seen")
	h.do("POST", base, map[string]any{"id": "u-x", "username": 7}).wantError(http.StatusBadRequest, verr.InvalidInput, "username")
	h.do("POST", base+"/u-new/activate", nil).want(http.StatusOK).decode(&u)
	if u.Status != orgdoc.StatusActive {
		t.Fatalf("status %q", u.Status)
	}
	// A new username moves the user's username overrides with it.
	ap := "/admin/v1/orgs/" + org + "/projects/mortgage/environments/prod/active-policy"
	h.do("PUT", ap+"/overrides/username/newbie", map[string]any{"policy": map[string]any{"build": "m2"}}).want(http.StatusOK)
	h.do("PATCH", base+"/u-new", map[string]any{"username": "maria"}).wantError(http.StatusConflict, verr.Conflict, "username")
	h.do("PATCH", base+"/u-new", map[string]any{"username": "senior"}).want(http.StatusOK)
	o, _ := h.exported(org)
	ovs := o.Projects[0].Environments["prod"].ActivePolicy.Overrides
	if !slices.ContainsFunc(ovs, func(ov orgdoc.Override) bool { return ov.Username == "senior" }) {
		t.Fatalf("overrides %+v: the username override did not follow the rename", ovs)
	}
	h.do("POST", base, map[string]any{"id": "u-y", "username": "newbie"}).want(http.StatusCreated)
	h.exported(org)
}

// Deleting a user removes its memberships, shares, overrides and flow
// entries in one write.
func TestUserDeleteRemovesMemberships(t *testing.T) {
	for _, c := range []struct {
		name, file, user string
		inGroups         bool
	}{
		{"demo", demoFile, "u-tom", true},           // a group, a share in uat
		{"demo-designer", demoFile, "u-lee", false}, // a designer group, project_owner, workspace_user
		{"acme", acmeFile, "u-bob", true},           // a group, a share, a flow permission entry
	} {
		t.Run(c.name, func(t *testing.T) {
			h := setup(t)
			org := h.putOrg(orgDoc(t, c.file))
			before, _ := h.exported(org)
			var groups []string
			for _, g := range before.Groups {
				if slices.Contains(g.Members, c.user) {
					groups = append(groups, g.Name)
				}
			}
			if c.inGroups != (len(groups) > 0) {
				t.Fatalf("%s: groups %v in the fixture", c.user, groups)
			}
			rev := h.revision(org)
			h.do("DELETE", "/admin/v1/orgs/"+org+"/users/"+c.user, nil).want(http.StatusNoContent)
			if h.revision(org) != rev+1 {
				t.Fatal("the deletion was not one write")
			}
			after, _ := h.exported(org) // validates: nothing dangles
			for _, g := range after.Groups {
				if slices.Contains(g.Members, c.user) {
					t.Fatalf("%s still in %s", c.user, g.Name)
				}
			}
			for _, g := range groups {
				var page domain.Page[string]
				h.do("GET", "/admin/v1/orgs/"+org+"/groups/"+pathEscape(g)+"/members", nil).want(http.StatusOK).decode(&page)
				if slices.Contains(page.Items, c.user) {
					t.Fatalf("members of %s: %v", g, page.Items)
				}
			}
			sf := h.subjectFacts(org, c.user)
			if len(keysOf(sf, "groups")) != 0 || len(keysOf(sf, "users")) != 0 || len(keysOf(sf, "designer_groups_of")) != 0 ||
				len(keysOf(sf, "designer_roles", "users")) != 0 {
				t.Fatalf("decision facts of the deleted user: %+v", sf)
			}
			h.do("GET", "/admin/v1/orgs/"+org+"/users/"+c.user, nil).wantError(http.StatusNotFound, verr.NotFound, "user")
		})
	}
}

// Lists page by record position with an opaque cursor.
func TestUsersPagination(t *testing.T) {
	h := setup(t)
	org := h.putOrg(orgDoc(t, demoFile)) // 5 users
	base := "/admin/v1/orgs/" + org + "/users"
	var want []string
	var all domain.Page[orgdoc.User]
	h.do("GET", base, nil).want(http.StatusOK).decode(&all)
	for _, u := range all.Items {
		want = append(want, u.ID)
	}
	for i := range 12 {
		id := fmt.Sprintf("u-%02d", i)
		h.do("POST", base, map[string]any{"id": id, "username": id}).want(http.StatusCreated)
		want = append(want, id)
	}
	var got []string
	cursor, pages := "", 0
	for {
		var p domain.Page[orgdoc.User]
		h.do("GET", base+"?limit=5&cursor="+cursor, nil).want(http.StatusOK).decode(&p)
		for _, u := range p.Items {
			got = append(got, u.ID)
		}
		pages++
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if !slices.Equal(got, want) || pages != 4 {
		t.Fatalf("%d pages: %v, want %v", pages, got, want)
	}
	h.do("GET", base+"?limit=0", nil).wantError(http.StatusBadRequest, verr.InvalidInput, "limit")
	h.do("GET", base+"?limit=1001", nil).wantError(http.StatusBadRequest, verr.InvalidInput, "limit")
	h.do("GET", base+"?cursor=abc", nil).wantError(http.StatusBadRequest, verr.InvalidInput, "cursor")
}
