package edge

import (
	"context"
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
			filters := compareFilters(t, trio, c.Filters)
			t.Logf("%d evaluations identical on central and edge, %d also on stock OPA; %d filters on all three",
				compared, stock, filters)
		})
	}
}

// compareFilters asks each filter case of the three PDPs (stock OPA answers
// the condition as data; the SQL is the PDPs' own translation, compared
// between central and edge).
func compareFilters(t *testing.T, trio pdptest.Trio, cases []orgdoc.FilterCase) int {
	t.Helper()
	for _, fc := range cases {
		a, err := trio.AskFilter(fc.Filter.Org, fc.Filter.User, fc.Filter.Filter)
		if err != nil {
			t.Errorf("filter %s: %v", fc.Name, err)
			continue
		}
		if d := a.Diff(); d != "" {
			t.Errorf("filter %s: %s", fc.Name, d)
		}
	}
	return len(cases)
}
