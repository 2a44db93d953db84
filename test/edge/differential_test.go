package edge

import (
	"context"
	"encoding/json"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/verdict-pdp/verdict/internal/conformance"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/pdptest"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// TestDifferential: for every corpus, each evaluation (as written and with
// explain on) and each filter is asked of the central PDP (facts from
// Redis), of an edge PDP (signed bundles built from the corpus file) and of
// stock OPA (`opa run --server` of the pinned version on the same bundles,
// at data.verdict.orgs.<org>.main.decision). The three answers must be
// identical, reasons included; the corpus's expectations must hold on the
// edge (what `verdict check FILE --url <edge>` checks).
func TestDifferential(t *testing.T) {
	rs := redistest.Start(t)
	st, err := store.Open(store.Config{URL: rs.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	central := "http://" + startCentral(t, rs.URL()).Addr
	k := newKeys(t)
	for _, file := range corpora(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			c := loadCorpus(t, file)
			importOrgs(t, st, c.Orgs)
			files := pdptest.WriteBundles(t, c.Orgs, k.Signer, t.TempDir())
			orgs := map[string]bool{}
			for i := range c.Orgs {
				orgs[c.Orgs[i].Org] = true
			}
			edge := startEdge(t, files, k.PubPath)
			opa := runOPA(t, k.PubPath, files)
			trio := pdptest.Trio{Central: central, Edge: edge, OPA: opa, OPAOrgs: orgs}

			res := conformance.Run(context.Background(), c, conformance.NewRemote(edge, ""))
			for _, f := range res.Failures {
				t.Errorf("verdict check --url <edge>: %s\n  expected: %s\n  actual:   %s", f.Name, f.Expected, f.Actual)
			}
			compared, stock := 0, 0
			for _, ev := range c.Evaluations {
				for _, explain := range []bool{false, true} {
					req, err := pdptest.WithExplain(ev.Request, explain)
					if err != nil {
						t.Fatal(err)
					}
					a, err := trio.Ask(req)
					if err != nil {
						t.Errorf("%s (explain %v): %v", ev.Name, explain, err)
						continue
					}
					if a.Edge != a.Central {
						t.Errorf("%s (explain %v): edge differs\n  central: %s\n  edge:    %s", ev.Name, explain, a.Central, a.Edge)
					}
					compared++
					if a.OPA == "" {
						continue
					}
					if a.OPA != a.Central {
						t.Errorf("%s (explain %v): stock OPA differs\n  central:   %s\n  stock OPA: %s", ev.Name, explain, a.Central, a.OPA)
					}
					stock++
				}
			}
			filters := compareFilters(t, c.Filters, central, edge, opa, orgs)
			t.Logf("%d evaluations identical on central and edge, %d also on stock OPA; %d filters on all three",
				compared, stock, filters)
		})
	}
}

// compareFilters asks each filter case of the three PDPs. Stock OPA answers
// the condition as data (data.verdict.orgs.<org>.filters.result); the SQL
// is the PDPs' own translation, compared between central and edge.
func compareFilters(t *testing.T, cases []orgdoc.FilterCase, central, edge, opa string, orgs map[string]bool) int {
	t.Helper()
	n := 0
	for _, fc := range cases {
		f := fc.Filter
		body := map[string]any{"org": f.Org, "user": f.User}
		_, a := postJSON(t, central+"/v1/filters/"+url.PathEscape(f.Filter), body)
		_, b := postJSON(t, edge+"/v1/filters/"+url.PathEscape(f.Filter), body)
		want := canonical(t, a)
		if got := canonical(t, b); got != want {
			t.Errorf("filter %s: edge differs\n  central: %s\n  edge:    %s", fc.Name, want, got)
		}
		if !orgs[f.Org] {
			continue
		}
		input := map[string]any{
			"subject":  map[string]any{"type": "user", "id": f.User},
			"action":   map[string]any{"name": "filter"},
			"resource": map[string]any{"type": "business_filter", "id": f.Filter},
			"context":  map[string]any{"org": f.Org},
		}
		_, o := postJSON(t, opa+"/v1/data/verdict/orgs/"+url.PathEscape(f.Org)+"/filters/result", map[string]any{"input": input})
		var wrapped struct{ Result map[string]any }
		_ = json.Unmarshal(o, &wrapped)
		var full map[string]any
		_ = json.Unmarshal(a, &full)
		if full["error"] != nil {
			// An unknown filter: 404 on the PDPs, undefined on OPA.
			if wrapped.Result != nil {
				t.Errorf("filter %s: central %s, stock OPA %v", fc.Name, a, wrapped.Result)
			}
			n++
			continue
		}
		delete(full, "sql")
		wantData, _ := json.Marshal(full)
		gotData, _ := json.Marshal(wrapped.Result)
		if canonical(t, wantData) != canonical(t, gotData) {
			t.Errorf("filter %s: stock OPA differs\n  central:   %s\n  stock OPA: %s", fc.Name, wantData, gotData)
		}
		n++
	}
	return n
}
