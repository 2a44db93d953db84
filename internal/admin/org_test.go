package admin_test

import (
	"net/http"
	"testing"

	"github.com/verdict-pdp/verdict/internal/verr"
)

func TestOrgRoundTrip(t *testing.T) {
	for _, c := range corpora {
		t.Run(c.name, func(t *testing.T) {
			h := setup(t)
			doc := orgDoc(t, c.file)
			org := h.putOrg(doc)
			r := h.do("GET", "/admin/v1/orgs/"+org, nil).want(http.StatusOK)
			if got := r.header.Get("ETag"); got != `"rev-1"` {
				t.Errorf("ETag %s, want \"rev-1\"", got)
			}
			if a, b := canonical(t, doc), canonical(t, r.body); a != b {
				t.Fatalf("GET differs from PUT\nput: %s\ngot: %s", a, b)
			}
			// The document names the org: another org's path is refused.
			h.do("PUT", "/admin/v1/orgs/other", doc).wantError(http.StatusBadRequest, verr.InvalidInput, "org")
			// If-Match with the current revision passes, a stale one does not.
			h.do("PUT", "/admin/v1/orgs/"+org, doc, "If-Match", `"rev-1"`).want(http.StatusOK)
			h.do("PUT", "/admin/v1/orgs/"+org, doc, "If-Match", `"rev-1"`).wantError(http.StatusPreconditionFailed, verr.PreconditionFailed, "If-Match")
		})
	}
}

// A document that fails validation (or decoding) changes nothing.
func TestRefusedDocumentChangesNothing(t *testing.T) {
	for _, c := range corpora {
		t.Run(c.name, func(t *testing.T) {
			h := setup(t)
			doc := orgDoc(t, c.file)
			org := h.putOrg(doc)
			before := h.do("GET", "/admin/v1/orgs/"+org, nil).want(http.StatusOK)
			rev := h.revision(org)

			badGroup := editDoc(t, doc, func(o map[string]any) {
				gs := o["groups"].([]any)
				gs[0].(map[string]any)["name"] = "no/slashes"
			})
			h.do("PUT", "/admin/v1/orgs/"+org, badGroup).wantError(http.StatusUnprocessableEntity, verr.Invalid, "groups[0].name")
			unknownField := editDoc(t, doc, func(o map[string]any) {
				o["roles"].([]any)[0].(map[string]any)["colour"] = "red"
			})
			h.do("PUT", "/admin/v1/orgs/"+org, unknownField).wantError(http.StatusBadRequest, verr.InvalidInput, "roles[0].colour")
			h.do("PUT", "/admin/v1/orgs/"+org, "{not json").want(http.StatusBadRequest)

			after := h.do("GET", "/admin/v1/orgs/"+org, nil).want(http.StatusOK)
			if string(before.body) != string(after.body) || before.header.Get("ETag") != after.header.Get("ETag") {
				t.Fatal("a refused document changed the stored org")
			}
			if h.revision(org) != rev {
				t.Fatalf("revision moved from %d to %d", rev, h.revision(org))
			}
		})
	}
}

func TestDeleteOrg(t *testing.T) {
	h := setup(t)
	doc := orgDoc(t, demoFile)
	org := h.putOrg(doc)
	h.do("DELETE", "/admin/v1/orgs/"+org, nil, "If-Match", `"rev-7"`).wantError(http.StatusPreconditionFailed, verr.PreconditionFailed, "If-Match")
	h.do("DELETE", "/admin/v1/orgs/"+org, nil, "If-Match", `"rev-1"`).want(http.StatusNoContent)
	h.do("GET", "/admin/v1/orgs/"+org, nil).wantError(http.StatusNotFound, verr.NotFound, "org")
	h.do("GET", "/admin/v1/orgs/"+org+"/users", nil).wantError(http.StatusNotFound, verr.NotFound, "org")
	h.do("POST", "/admin/v1/orgs/"+org+"/roles", map[string]string{"name": "X"}).wantError(http.StatusNotFound, verr.NotFound, "org")
	keys, err := h.st.Client().Keys(t.Context(), "v:{"+org+"}:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		switch k {
		case "v:{demo}:rev", "v:{demo}:audit", "v:{demo}:changes":
		default:
			t.Errorf("key %s left after the org was deleted", k)
		}
	}
	// The revision keeps growing: an ETag of the old org never matches the new.
	h.putOrg(doc)
	if got := h.do("GET", "/admin/v1/orgs/"+org, nil).header.Get("ETag"); got != `"rev-3"` {
		t.Errorf("ETag after re-import %s, want \"rev-3\"", got)
	}
	var audit struct {
		Items []struct{ Action, Actor string }
	}
	h.do("GET", "/admin/v1/orgs/"+org+"/audit", nil).want(http.StatusOK).decode(&audit)
	if len(audit.Items) != 3 || audit.Items[1].Action != "org.deleted" || audit.Items[1].Actor != "tester" {
		t.Fatalf("audit %+v", audit.Items)
	}
}

func TestBadOrgID(t *testing.T) {
	h := setup(t)
	h.do("GET", "/admin/v1/orgs/Bad%7Bbrace/users", nil).wantError(http.StatusBadRequest, verr.InvalidInput, "org")
}
