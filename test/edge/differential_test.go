package edge

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/verdict-pdp/verdict/internal/bundle"
	"github.com/verdict-pdp/verdict/internal/cmd/edgecmd"
	"github.com/verdict-pdp/verdict/internal/conformance"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
	"github.com/verdict-pdp/verdict/policies"
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
	mods, err := policies.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range corpora(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			c := loadCorpus(t, file)
			importOrgs(t, st, c.Orgs)
			dir := t.TempDir()
			var files []string
			orgs := map[string]bool{}
			for i := range c.Orgs {
				// The --from path of `verdict bundle build`.
				b, err := bundle.Build(context.Background(), bundle.Spec{Org: &c.Orgs[i], Policies: bundle.Policies{Modules: mods}, Signer: k.signer})
				if err != nil {
					t.Fatal(err)
				}
				f := filepath.Join(dir, c.Orgs[i].Org+".tar.gz")
				if err := os.WriteFile(f, b.Bytes, 0o644); err != nil {
					t.Fatal(err)
				}
				files = append(files, f)
				orgs[c.Orgs[i].Org] = true
			}
			edge := startEdge(t, files, k.pubPath)
			opa := runOPA(t, k.pubPath, files)

			res := conformance.Run(context.Background(), c, conformance.NewRemote(edge, ""))
			for _, f := range res.Failures {
				t.Errorf("verdict check --url <edge>: %s\n  expected: %s\n  actual:   %s", f.Name, f.Expected, f.Actual)
			}
			compared, stock := 0, 0
			for _, ev := range c.Evaluations {
				for _, explain := range []bool{false, true} {
					req := withExplain(t, ev.Request, explain)
					_, a := postJSON(t, central+"/access/v1/evaluation", req)
					_, b := postJSON(t, edge+"/access/v1/evaluation", req)
					want, got := decisionJSON(t, a), decisionJSON(t, b)
					if want != got {
						t.Errorf("%s (explain %v): edge differs\n  central: %s\n  edge:    %s", ev.Name, explain, want, got)
					}
					compared++
					org := orgOf(req)
					if !orgs[org] {
						continue // stock OPA has no path for an org it does not hold
					}
					_, o := postJSON(t, opa+"/v1/data/verdict/orgs/"+url.PathEscape(org)+"/main/decision", map[string]any{"input": req})
					var wrapped struct{ Result json.RawMessage }
					_ = json.Unmarshal(o, &wrapped)
					if wrapped.Result == nil {
						t.Errorf("%s: stock OPA: %s", ev.Name, o)
						continue
					}
					if opaGot := decisionJSON(t, wrapped.Result); opaGot != want {
						t.Errorf("%s (explain %v): stock OPA differs\n  central:   %s\n  stock OPA: %s", ev.Name, explain, want, opaGot)
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

// startEdge runs `verdict edge` in-process on bundle files.
func startEdge(t testing.TB, files []string, pubPath string) string {
	t.Helper()
	srv, err := edgecmd.Start(context.Background(), &edgecmd.Config{
		Addr: "127.0.0.1:0", Bundles: files, VerificationKey: pubPath, Auth: "none",
	}, testLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	base := "http://" + srv.Addr
	waitReady(t, base+"/ready", hangGuard)
	return base
}

// withExplain returns the request with context.explain set (or as written).
func withExplain(t testing.TB, raw json.RawMessage, explain bool) json.RawMessage {
	t.Helper()
	if !explain {
		return raw
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	ctx, _ := m["context"].(map[string]any)
	if ctx == nil {
		ctx = map[string]any{}
		m["context"] = ctx
	}
	ctx["explain"] = true
	b, _ := json.Marshal(m)
	return b
}

func orgOf(raw json.RawMessage) string {
	var m struct {
		Context struct {
			Org string `json:"org"`
		} `json:"context"`
	}
	_ = json.Unmarshal(raw, &m)
	return m.Context.Org
}

// decisionJSON is a decision object in canonical JSON. The one liberty taken:
// the PDPs' JSON leaves out an empty context (decision.Decision's omitempty)
// where OPA writes "context": {}; both mean the same and compare equal.
func decisionJSON(t testing.TB, raw []byte) string {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("not a decision: %s", raw)
	}
	if c, ok := d["context"].(map[string]any); ok && len(c) == 0 {
		delete(d, "context")
	}
	b, _ := json.Marshal(d)
	return string(b)
}
