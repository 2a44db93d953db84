package admin_test

import (
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"testing"

	"github.com/verdict-pdp/verdict/internal/admin"
	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/review"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

const acme51 = "../migrate/testdata/acme-5.1.json"

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// auditActions lists the org's audit entries (action, actor, justification).
func (h *harness) audit(org string) []store.AuditEntry {
	h.t.Helper()
	var p domain.Page[store.AuditEntry]
	h.do("GET", "/admin/v1/orgs/"+org+"/audit?limit=1000", nil).want(http.StatusOK).decode(&p)
	return p.Items
}

func findingsOf(r *resp) []string {
	var cl review.Checklist
	r.decode(&cl)
	var out []string
	for _, f := range cl.Findings {
		out = append(out, f.Code+" "+f.Path+" "+f.ID)
	}
	return out
}

// The checklist of acme's migrated document: exactly the findings seeded
// into its 5.1 export (docs/migration.md, "The acme export").
var acmeFindings = []string{
	"ui_flow_default_role projects[0].builds[1].ui_flows[0] loans/b2/apply",
	"ui_flow_default_role projects[0].builds[2].ui_flows[0] loans/b3/apply",
	"ui_flow_default_role projects[0].builds[2].ui_flows[1] loans/b3/beta_flow",
	"deprecated_role_override projects[0].environments.prod.active_policy.overrides[3] loans/prod/role:Early",
	"deprecated_role_override projects[0].environments.prod.active_policy.overrides[4] loans/prod/role:Beta",
	"deprecated_role_override projects[0].environments.prod.active_policy.overrides[5] loans/prod/role:Clerk",
	"share_role_outside_active_build projects[0].environments.prod.shares[1].roles[0] loans/prod/groups/Auditors/Auditor",
	"ui_flow_default_role projects[1].builds[0].ui_flows[0] cards/c1/statement",
	"no_active_policy projects[1].environments.uat cards/uat",
	"no_shares projects[1].environments.uat.shares cards/uat",
	"ui_flow_default_role projects[2].builds[0].ui_flows[0] treasury/t1/ledger",
	"empty_group groups[3] Auditors",
	"legacy_grant_in_use legacy_grants[0] u-alice/Clerk",
	"legacy_grant_in_use legacy_grants[3] u-hank/User",
	"user_not_invited users[1] u-bob",
	"user_not_invited users[8] u-ivan",
}

// A 5.1 export over HTTP: the dry run answers the report and the document
// and writes nothing; the applied migration is one audited import that
// records the users to invite; the checklist lists exactly the findings
// seeded into the export, and each fix makes its finding go.
func TestMigrationAndChecklist(t *testing.T) {
	h := setup(t)
	export := readFile(t, acme51)
	base := "/admin/v1/orgs/acme"

	var dry struct {
		Applied  bool
		Report   json.RawMessage
		Document json.RawMessage
	}
	h.do("POST", base+"/migrations/51", export).want(http.StatusOK).decode(&dry)
	if h.authz.last() != (admin.Check{ResourceType: "org", ResourceID: "acme", Action: admin.UsersRead}) {
		t.Fatalf("dry run checked %+v", h.authz.last())
	}
	var rep struct {
		Summary struct{ Users, Shares int }
		Replay  struct{ Users, Questions, Agreed int }
	}
	if err := json.Unmarshal(dry.Report, &rep); err != nil {
		t.Fatal(err)
	}
	if dry.Applied || rep.Summary.Users != 14 || rep.Summary.Shares != 7 || rep.Replay.Users != 4 || rep.Replay.Questions != 142 || rep.Replay.Agreed != 142 {
		t.Fatalf("dry run: applied %v, report %+v", dry.Applied, rep)
	}
	h.do("GET", base, nil).wantError(http.StatusNotFound, verr.NotFound, "org")

	// Bad exports name the field at fault; nothing is written.
	h.do("POST", "/admin/v1/orgs/globex/migrations/51", export).wantError(http.StatusBadRequest, verr.InvalidInput, "org")
	h.do("POST", base+"/migrations/51", editDoc(t, export, func(o map[string]any) { o["users"].([]any)[0].(map[string]any)["name"] = "x" })).
		wantError(http.StatusBadRequest, verr.InvalidInput, "users[0].name")
	h.do("POST", base+"/migrations/51?apply=yes", export).wantError(http.StatusBadRequest, verr.InvalidInput, "apply")

	r := h.do("POST", base+"/migrations/51?apply=true", export, "X-Justification", "upgrade to 5.9, change 4711").want(http.StatusOK)
	if h.authz.last() != (admin.Check{ResourceType: "org", ResourceID: "acme", Action: admin.UsersWrite}) {
		t.Fatalf("apply checked %+v", h.authz.last())
	}
	if r.header.Get("ETag") != `"rev-1"` {
		t.Fatalf("ETag %q", r.header.Get("ETag"))
	}
	entries := h.audit("acme")
	if len(entries) != 1 || entries[0].Action != "org.migrated" || entries[0].Justification != "upgrade to 5.9, change 4711" || entries[0].Actor != "tester" {
		t.Fatalf("audit %+v", entries)
	}
	// Applying again would replace the org: only with its revision.
	h.do("POST", base+"/migrations/51?apply=true", export).wantError(http.StatusConflict, verr.Conflict, "If-Match")
	h.do("POST", base+"/migrations/51?apply=true", export, "If-Match", `"rev-1"`).want(http.StatusOK)
	o, _ := h.exported("acme")
	if len(o.Users) != 14 || len(o.LegacyGrants) != 4 {
		t.Fatalf("migrated org: %d users, %d legacy grants", len(o.Users), len(o.LegacyGrants))
	}

	got := findingsOf(h.do("GET", base+"/checklist", nil).want(http.StatusOK))
	if !slices.Equal(got, acmeFindings) {
		t.Fatalf("checklist:\n%q\nwant:\n%q", got, acmeFindings)
	}
	// One environment: its findings and the org-wide ones.
	var dev []string
	for _, f := range acmeFindings {
		if !slices.Contains([]string{"ui_flow_default_role", "deprecated_role_override", "share_role_outside_active_build", "no_active_policy", "no_shares"}, f[:indexSpace(f)]) {
			dev = append(dev, f)
		}
	}
	if got := findingsOf(h.do("GET", base+"/checklist?environment=dev", nil).want(http.StatusOK)); !slices.Equal(got, dev) {
		t.Fatalf("checklist of dev:\n%q\nwant:\n%q", got, dev)
	}
	h.do("GET", base+"/checklist?environment=qa", nil).wantError(http.StatusNotFound, verr.NotFound, "environment")

	// Each fix ends its finding.
	for _, fix := range []struct {
		method, path string
		body         any
		gone         string
	}{
		{"POST", "/users/u-bob/invitation", nil, "user_not_invited users[1] u-bob"},
		{"DELETE", "/users/u-hank/legacy-grants/User", nil, "legacy_grant_in_use legacy_grants[3] u-hank/User"},
		{"POST", "/groups/Auditors/members", map[string]any{"users": []string{"u-carol"}}, "empty_group groups[3] Auditors"},
		{"DELETE", "/projects/loans/environments/prod/active-policy/overrides/roles/Clerk", nil,
			"deprecated_role_override projects[0].environments.prod.active_policy.overrides[5] loans/prod/role:Clerk"},
		{"PUT", "/projects/cards/environments/uat/active-policy/default", map[string]any{"build": "c1"}, "no_active_policy projects[1].environments.uat cards/uat"},
	} {
		if r := h.do(fix.method, base+fix.path, fix.body); r.status >= 300 {
			t.Fatalf("%s %s: %d %s", fix.method, fix.path, r.status, r.body)
		}
		got := findingsOf(h.do("GET", base+"/checklist", nil).want(http.StatusOK))
		if slices.Contains(got, fix.gone) {
			t.Fatalf("after %s %s the finding %q is still there", fix.method, fix.path, fix.gone)
		}
	}
	h.do("POST", base+"/users/u-nobody/invitation", nil).wantError(http.StatusNotFound, verr.NotFound, "user")
	h.do("DELETE", base+"/users/u-hank/legacy-grants/User", nil).wantError(http.StatusNotFound, verr.NotFound, "legacy_grant")
	last := h.audit("acme")
	actions := []string{}
	for _, e := range last[2:] {
		actions = append(actions, e.Action)
	}
	if want := []string{"user.invited", "legacy_grant.deleted", "group.members_added", "active_policy.override_deleted", "active_policy.default_set"}; !slices.Equal(actions, want) {
		t.Fatalf("audit after the fixes %v, want %v", actions, want)
	}
	// CSV: a header and one line per finding.
	c := h.do("GET", base+"/checklist?format=csv", nil).want(http.StatusOK)
	if ct := c.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Fatalf("content type %q", ct)
	}
}

func indexSpace(s string) int {
	for i, r := range s {
		if r == ' ' {
			return i
		}
	}
	return len(s)
}
