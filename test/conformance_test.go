// Package test holds Verdict's end-to-end checks: every decision corpus (the
// shared conformance corpora beside the repository, the project's own in
// test/corpus and the demo data) replayed through the real decision path.
package test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/verdict-pdp/verdict/internal/assemble"
	"github.com/verdict-pdp/verdict/internal/conformance"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/policies"
)

// sharedDir is the conformance folder beside the repository (absent in a
// user's clone).
const sharedDir = "../../shared/conformance"

// corpora lists the corpus files to replay; shared ones only when present.
func corpora(t testing.TB) []string {
	t.Helper()
	files, _ := filepath.Glob("corpus/*.json")
	files = append(files, "../data/demo.json")
	shared, _ := filepath.Glob(filepath.Join(sharedDir, "*.json"))
	if len(shared) == 0 {
		t.Logf("skipping shared corpora: %s is absent (a user's clone)", sharedDir)
	}
	return append(files, shared...)
}

func newEngine(t testing.TB) *engine.Engine {
	t.Helper()
	mods, err := policies.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(context.Background(), engine.Config{Modules: mods})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func loadCorpus(t testing.TB, path string) *orgdoc.Corpus {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := orgdoc.DecodeCorpus(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// TestCorpora replays every corpus in-process: all cases must pass.
func TestCorpora(t *testing.T) {
	e := newEngine(t)
	for _, f := range corpora(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c := loadCorpus(t, f)
			local, err := conformance.NewLocal(e, c.Orgs)
			if err != nil {
				t.Fatal(err)
			}
			res := conformance.Run(context.Background(), c, local)
			for _, fl := range res.Failures {
				t.Errorf("%s\n  expected: %s\n  actual:   %s", fl.Name, fl.Expected, fl.Actual)
			}
			if want := len(c.Evaluations) + len(c.Filters); res.Passed != want {
				t.Errorf("%d of %d cases passed", res.Passed, want)
			}
		})
	}
}

// wholeOrg is a Source that hands the policies the whole organization, the
// way an edge bundle does.
type wholeOrg struct{ src *assemble.DocSource }

func (w wholeOrg) Facts(_ context.Context, s facts.Scope) (facts.Facts, error) {
	ix := w.src.Index(s.Org)
	if ix == nil {
		return facts.Facts{Value: ast.NewObject()}, nil
	}
	v, err := ast.InterfaceToValue(map[string]any{s.Org: ix.Document()})
	return facts.Facts{Value: v, Known: true}, err
}

// TestSubjectFactsDecideAsWholeOrg: the facts cut out for one subject must
// give the same answer, reasons included, as the whole organization. This is
// what lets the central PDP read a few keys while edges hold everything.
func TestSubjectFactsDecideAsWholeOrg(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	for _, f := range corpora(t) {
		c := loadCorpus(t, f)
		src := assemble.NewDocSource(c.Orgs)
		sparse, _ := pdp.New(pdp.Config{}, e, src)
		whole, _ := pdp.New(pdp.Config{}, e, wholeOrg{src})
		for _, ev := range c.Evaluations {
			var req map[string]any
			if err := json.Unmarshal(ev.Request, &req); err != nil {
				t.Fatal(err)
			}
			if ctxm, ok := req["context"].(map[string]any); ok {
				ctxm["explain"] = true
			}
			raw, _ := json.Marshal(req)
			a, errA := (&conformance.Local{Service: sparse}).Evaluate(ctx, raw)
			b, errB := (&conformance.Local{Service: whole}).Evaluate(ctx, raw)
			if errA != nil || errB != nil {
				t.Fatalf("%s: %v / %v", ev.Name, errA, errB)
			}
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if string(ja) != string(jb) {
				t.Errorf("%s: %s\n  subject facts: %s\n  whole org:     %s", f, ev.Name, ja, jb)
			}
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
