package admin_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/review"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// acmeSeen is acme with last_seen set relative to now: most users were
// seen two days ago, bob 200 days ago, gina 45 days ago, hank never.
func acmeSeen(t *testing.T) []byte {
	now := time.Now().UTC()
	ago := func(days int) string { return now.Add(-time.Duration(days) * 24 * time.Hour).Format(time.RFC3339) }
	return editDoc(t, orgDoc(t, acmeFile), func(o map[string]any) {
		for _, u := range o["users"].([]any) {
			m := u.(map[string]any)
			switch m["id"] {
			case "u-bob":
				m["last_seen"] = ago(200)
			case "u-gina":
				m["last_seen"] = ago(45)
			case "u-hank":
			default:
				m["last_seen"] = ago(2)
			}
		}
	})
}

func (h *harness) review(path string) review.Review {
	h.t.Helper()
	var r review.Review
	h.do("GET", path, nil).want(http.StatusOK).decode(&r)
	return r
}

// The access review of acme's loans in prod: who can do what is what the
// engine decides, checked against every acme corpus case about loans in
// prod (a row exists exactly when the case expects an allow); the users
// inactive for 30 days, the unjustified designer roles, the disabled owners
// and the legacy-only access are listed exactly; a justification recorded
// on an assignment leaves the list and shows in the audit; CSV holds the
// same rows.
func TestAccessReview(t *testing.T) {
	h := setup(t)
	org := h.putOrg(acmeSeen(t))
	base := "/admin/v1/orgs/" + org
	r := h.review(base + "/review?project=loans&environment=prod&inactive_days=30")
	if r.Revision != h.revision(org) || r.InactiveDays != 30 || r.Project != "loans" || r.Environment != "prod" {
		t.Fatalf("review header %+v", r)
	}
	rows := map[string]string{}
	for _, a := range r.Access {
		if a.Project != "loans" || (a.Environment != "prod" && a.Environment != "") {
			t.Fatalf("row outside the review's scope: %+v", a)
		}
		rows[a.User+" "+a.ResourceType+" "+a.Resource+" "+a.Action] = a.Detail
	}
	cb, err := os.ReadFile(acmeFile)
	if err != nil {
		t.Fatal(err)
	}
	corpus, err := orgdoc.DecodeCorpus(cb)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, ev := range corpus.Evaluations {
		var q struct {
			Subject  struct{ Type, ID string }
			Action   struct{ Name string }
			Resource struct {
				Type, ID   string
				Properties map[string]string
			}
			Context map[string]any
		}
		if err := json.Unmarshal(ev.Request, &q); err != nil {
			t.Fatal(err)
		}
		project, res := q.Resource.Properties["project"], q.Resource.ID
		switch q.Resource.Type {
		case "solution", "project":
			project = q.Resource.ID
		case "swimlane":
			res = q.Resource.Properties["process"] + "/" + q.Resource.ID
		case "flow":
			if q.Resource.ID == "report_gen" { // no entries of its own
				res = review.AnyFlow
			}
		case "ui_flow", "process":
		default:
			continue
		}
		if q.Subject.Type != "user" {
			continue // the review is about users
		}
		env, _ := q.Context["environment"].(string)
		if q.Context["org"] != "acme" || project != "loans" || (env != "prod" && q.Resource.Type != "project") {
			continue
		}
		checked++
		detail, listed := rows[q.Subject.ID+" "+q.Resource.Type+" "+res+" "+q.Action.Name]
		if listed != ev.Expected.Decision {
			t.Errorf("%s: listed %v, the corpus expects %v", ev.Name, listed, ev.Expected.Decision)
		}
		if b, ok := ev.Expected.Context["build"].(string); ok && listed && !strings.HasPrefix(detail, "build "+b+" ") {
			t.Errorf("%s: detail %q, want build %s", ev.Name, detail, b)
		}
	}
	if checked != 54 {
		t.Errorf("%d corpus cases checked, want 54", checked)
	}
	var inactive []string
	for _, u := range r.Inactive {
		inactive = append(inactive, u.User)
	}
	if want := []string{"u-bob", "u-gina", "u-hank"}; !slices.Equal(inactive, want) {
		t.Errorf("inactive %v (%+v), want %v", inactive, r.Inactive, want)
	}
	designer := func(list []review.DesignerRole) []string {
		var out []string
		for _, d := range list {
			out = append(out, d.Subject.User+d.Subject.Group+":"+d.Role)
		}
		return out
	}
	if got, want := designer(r.Unjustified), []string{"u-olga:org_admin", "u-wendy:workspace_admin", "u-paul:project_owner"}; !slices.Equal(got, want) {
		t.Errorf("unjustified %v, want %v", got, want)
	}
	if len(r.DisabledOwners) != 0 {
		t.Errorf("disabled owners %+v", r.DisabledOwners)
	}
	var legacy []string
	for _, l := range r.LegacyOnly {
		legacy = append(legacy, l.User+" "+l.Project+"/"+l.Environment)
	}
	if want := []string{"u-hank loans/prod"}; !slices.Equal(legacy, want) {
		t.Errorf("legacy only %v, want %v", legacy, want)
	}

	// A justification on paul's ownership; a new workspace_admin justified
	// when assigned; paul disabled.
	paul := r.Unjustified[2].ID
	if paul == 0 {
		t.Fatal("the review names no assignment id")
	}
	jpath := base + "/projects/loans/designer-roles/" + itoa(paul) + "/justification"
	h.do("PUT", jpath, map[string]any{}).wantError(http.StatusUnprocessableEntity, verr.Invalid, "justification")
	h.do("PUT", base+"/designer-roles/"+itoa(paul)+"/justification", map[string]any{"justification": "x"}).wantError(http.StatusNotFound, verr.NotFound, "designer_role")
	h.do("PUT", jpath, map[string]any{"justification": "owner since the project started (ticket 88)"}).want(http.StatusOK)
	var j domain.JustifiedAssignment
	h.do("GET", jpath, nil).want(http.StatusOK).decode(&j)
	if j.Justification == nil || j.Justification.Text != "owner since the project started (ticket 88)" || j.Justification.Actor != "tester" || j.Role != "project_owner" {
		t.Fatalf("justification %+v", j)
	}
	audit := h.audit(org)
	if e := audit[len(audit)-1]; e.Action != "designer_role.justified" || e.Justification != "owner since the project started (ticket 88)" {
		t.Fatalf("audit %+v", e)
	}
	h.do("POST", base+"/designer-roles", map[string]any{"subject": map[string]any{"user": "u-erin"}, "role": "workspace_admin",
		"scope": map[string]any{"workspace": "retail"}, "justification": "covers for wendy in June"}).want(http.StatusCreated)
	h.do("POST", base+"/users/u-paul/disable", nil).want(http.StatusOK)
	r = h.review(base + "/review?project=loans&environment=prod&inactive_days=30")
	if got, want := designer(r.Unjustified), []string{"u-olga:org_admin", "u-wendy:workspace_admin"}; !slices.Equal(got, want) {
		t.Errorf("unjustified after the justifications %v, want %v", got, want)
	}
	if got, want := designer(r.DisabledOwners), []string{"u-paul:project_owner"}; !slices.Equal(got, want) {
		t.Errorf("disabled owners %v, want %v", got, want)
	}

	// CSV: the same rows, one table.
	c := h.do("GET", base+"/review?project=loans&environment=prod&inactive_days=30&format=csv", nil).want(http.StatusOK)
	recs, err := csv.NewReader(bytes.NewReader(c.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], review.CSVHeader) {
		t.Fatalf("header %v", recs[0])
	}
	count := map[string]int{}
	for _, rec := range recs[1:] {
		count[rec[0]]++
	}
	if count[review.RowAccess] != len(r.Access) || count[review.RowInactive] != len(r.Inactive) || count[review.RowUnjustified] != 2 ||
		count[review.RowDisabledOwner] != 1 || count[review.RowLegacyOnly] != 1 || len(count) != 5 {
		t.Fatalf("CSV rows %v for %d access rows", count, len(r.Access))
	}
	h.do("GET", base+"/review?project=nope", nil).wantError(http.StatusNotFound, verr.NotFound, "project")
	h.do("GET", base+"/review?inactive_days=x", nil).wantError(http.StatusBadRequest, verr.InvalidInput, "inactive_days")
	h.do("GET", base+"/review?format=xml", nil).wantError(http.StatusBadRequest, verr.InvalidInput, "format")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Justifications and uninvited users are kept apart from the org document:
// a whole-org import keeps them (they name records by content), removing
// an assignment or a user removes what concerns it, and deleting the org
// removes them all.
func TestRecordsKeptApart(t *testing.T) {
	h := setup(t)
	base := "/admin/v1/orgs/acme"
	h.do("POST", base+"/migrations/51?apply=true", readFile(t, acme51)).want(http.StatusOK)
	unjustified := func() []string {
		r := h.review(base + "/review?project=loans&environment=prod")
		var out []string
		for _, d := range r.Unjustified {
			out = append(out, d.Subject.User+":"+d.Role)
		}
		return out
	}
	uninvited := func() []string {
		var cl review.Checklist
		h.do("GET", base+"/checklist", nil).want(http.StatusOK).decode(&cl)
		var out []string
		for _, f := range cl.Findings {
			if f.Code == review.CodeNotInvited {
				out = append(out, f.ID)
			}
		}
		return out
	}
	r := h.review(base + "/review?project=loans&environment=prod")
	ids := map[string]int64{}
	for _, d := range r.Unjustified {
		ids[d.Subject.User] = d.ID
	}
	h.do("PUT", base+"/designer-roles/"+itoa(ids["u-olga"])+"/justification", nil, "X-Justification", "platform admin").want(http.StatusOK)
	h.do("PUT", base+"/projects/loans/designer-roles/"+itoa(ids["u-paul"])+"/justification", map[string]any{"justification": "project lead"}).want(http.StatusOK)
	if got := unjustified(); !slices.Equal(got, []string{"u-wendy:workspace_admin"}) {
		t.Fatalf("unjustified %v", got)
	}
	// Export and import the org: positions are renumbered, the records stay.
	doc := h.do("GET", base, nil).want(http.StatusOK).body
	h.do("PUT", base, doc).want(http.StatusOK)
	if got := unjustified(); !slices.Equal(got, []string{"u-wendy:workspace_admin"}) {
		t.Fatalf("unjustified after a re-import %v", got)
	}
	if got := uninvited(); !slices.Equal(got, []string{"u-bob", "u-ivan"}) {
		t.Fatalf("uninvited after a re-import %v", got)
	}
	// Paul's ownership goes and comes back without a justification.
	var p domain.Page[domain.DesignerAssignment]
	h.do("GET", base+"/projects/loans/designer-roles", nil).want(http.StatusOK).decode(&p)
	for _, da := range p.Items {
		if da.Role == "project_owner" {
			h.do("DELETE", base+"/projects/loans/designer-roles/"+itoa(da.ID), nil).want(http.StatusNoContent)
		}
	}
	h.do("POST", base+"/projects/loans/designer-roles", map[string]any{"subject": map[string]any{"user": "u-paul"}, "role": "project_owner"}).want(http.StatusCreated)
	if got := unjustified(); !slices.Equal(got, []string{"u-wendy:workspace_admin", "u-paul:project_owner"}) {
		t.Fatalf("unjustified after paul's ownership was removed and given again %v", got)
	}
	// Deleting olga and ivan removes their records.
	h.do("DELETE", base+"/users/u-olga", nil).want(http.StatusNoContent)
	h.do("DELETE", base+"/users/u-ivan", nil).want(http.StatusNoContent)
	keys := h.st.Keys("acme")
	just, err := h.st.ReadApart(t.Context(), keys.Justifications())
	if err != nil {
		t.Fatal(err)
	}
	if len(just) != 0 {
		t.Fatalf("justifications left after olga went and paul's ownership was given anew: %v", just)
	}
	if got := uninvited(); !slices.Equal(got, []string{"u-bob"}) {
		t.Fatalf("uninvited after ivan went %v", got)
	}
	h.do("DELETE", base, nil).want(http.StatusNoContent)
	for _, k := range []string{keys.Justifications(), keys.Uninvited()} {
		if n, _ := h.st.Client().Exists(t.Context(), k).Result(); n != 0 {
			t.Fatalf("%s outlives the org", k)
		}
	}
}
