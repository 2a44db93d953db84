package admin_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/verr"
)

func TestGroupNameRule(t *testing.T) {
	h := setup(t)
	org := h.putOrg(orgDoc(t, demoFile))
	base := "/admin/v1/orgs/" + org + "/groups"
	for _, bad := range []string{"", "no/slash", "dots.not.allowed", "émigré", strings.Repeat("a", 65)} {
		h.do("POST", base, map[string]any{"name": bad}).wantError(http.StatusUnprocessableEntity, verr.Invalid, "name")
	}
	for _, good := range []string{"Back office", "a_b-C 9", strings.Repeat("z", 64)} {
		h.do("POST", base, map[string]any{"name": good, "attributes": map[string][]string{"region": {"eu", "us"}}}).want(http.StatusCreated)
	}
	h.do("POST", base, map[string]any{"name": "Back office"}).wantError(http.StatusConflict, verr.Conflict, "name")
	h.do("PATCH", base+"/Back%20office", map[string]any{"name": "bad/name"}).wantError(http.StatusUnprocessableEntity, verr.Invalid, "name")
	h.do("POST", base, map[string]any{"name": "x", "attributes": map[string]any{"region": "eu"}}).wantError(http.StatusBadRequest, verr.InvalidInput, "attributes.region")
	h.exported(org)
}

func TestGroupMembersAndRename(t *testing.T) {
	h := setup(t)
	org := h.putOrg(orgDoc(t, demoFile))
	g := "/admin/v1/orgs/" + org + "/groups/Tellers%20north"
	h.do("POST", g+"/members", map[string]any{"users": []string{"u-maria", "u-ghost"}}).wantError(http.StatusUnprocessableEntity, verr.Invalid, "users[1]")
	h.do("POST", g+"/members", map[string]any{"users": []string{"u-maria", "u-tom"}}).want(http.StatusNoContent)
	var page domain.Page[string]
	h.do("GET", g+"/members?limit=1", nil).want(http.StatusOK).decode(&page)
	if len(page.Items) != 1 || page.Items[0] != "u-tom" || page.NextCursor == "" {
		t.Fatalf("first page %+v", page)
	}
	var view struct {
		Name              string
		Members           []string
		MembersNextCursor string `json:"members_next_cursor"`
	}
	h.do("GET", g, nil).want(http.StatusOK).decode(&view)
	if !slices.Equal(view.Members, []string{"u-tom", "u-maria"}) || view.MembersNextCursor != "" {
		t.Fatalf("group %+v", view)
	}
	// Renaming moves members, the reverse index and the group's share.
	h.do("PATCH", g, map[string]any{"name": "Tellers"}).want(http.StatusOK)
	o, _ := h.exported(org)
	if o.Groups[0].Name != "Tellers" || !slices.Equal(o.Groups[0].Members, []string{"u-tom", "u-maria"}) {
		t.Fatalf("groups %+v", o.Groups)
	}
	if s := o.Projects[0].Environments["prod"].Shares[1]; s.Subject.Group != "Tellers" {
		t.Fatalf("share %+v did not follow the rename", s)
	}
	if gs := keysOf(h.subjectFacts(org, "u-maria"), "groups"); len(gs) != 2 || !slices.Contains(gs, "Tellers") {
		t.Fatalf("u-maria's groups %v", gs)
	}
	g = "/admin/v1/orgs/" + org + "/groups/Tellers"
	h.do("DELETE", g+"/members/u-lee", nil).wantError(http.StatusNotFound, verr.NotFound, "user")
	h.do("DELETE", g+"/members/u-tom", nil).want(http.StatusNoContent)
	h.do("DELETE", g, nil).want(http.StatusNoContent)
	o, _ = h.exported(org)
	if len(o.Groups) != 1 || len(o.Projects[0].Environments["prod"].Shares) != 1 {
		t.Fatalf("after deleting the group: %+v %+v", o.Groups, o.Projects[0].Environments["prod"].Shares)
	}
	if gs := keysOf(h.subjectFacts(org, "u-maria"), "groups"); len(gs) != 1 {
		t.Fatalf("u-maria's groups %v", gs)
	}
}
