package random

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// TestOracleOnCorpora holds the oracle to the hand-written corpora (the
// demo, the project's own and, when present, the shared ones): on every
// evaluation its decision and the context keys both give agree with the
// expectation, and on every filter case its condition. An oracle that
// disagreed with them would make the random comparison worthless.
func TestOracleOnCorpora(t *testing.T) {
	files, _ := filepath.Glob("../corpus/*.json")
	files = append(files, "../../data/demo.json")
	shared, _ := filepath.Glob("../../../shared/conformance/*.json")
	files = append(files, shared...)
	n := 0
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		c, err := orgdoc.DecodeCorpus(raw)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		orgOf := func(id string) *orgdoc.Org {
			for i := range c.Orgs {
				if c.Orgs[i].Org == id {
					return &c.Orgs[i]
				}
			}
			return &orgdoc.Org{Org: "\x00none"}
		}
		for _, ev := range c.Evaluations {
			var req map[string]any
			if err := json.Unmarshal(ev.Request, &req); err != nil {
				t.Fatal(err)
			}
			got := decide(orgOf(str(obj(req, "context"), "org")), req)
			ok := got.Decision == ev.Expected.Decision
			for k, v := range ev.Expected.Context {
				if g, has := got.Context[k]; has && g != v {
					ok = false
				}
			}
			if !ok {
				t.Errorf("%s: %s: the oracle answers %v %v, the corpus expects %v %v", filepath.Base(file), ev.Name,
					got.Decision, got.Context, ev.Expected.Decision, ev.Expected.Context)
			}
			n++
		}
		for _, fc := range c.Filters {
			want := filterOracle(orgOf(fc.Filter.Org), fc.Filter.User, fc.Filter.Filter)
			var exp map[string]any
			_ = json.Unmarshal(fc.Expected, &exp)
			if want == nil {
				if exp["error"] == nil && exp["status"] == nil && exp["values"] != nil {
					t.Errorf("%s: %s: the oracle knows no such filter, the corpus expects %s", filepath.Base(file), fc.Name, fc.Expected)
				}
				continue
			}
			wb, _ := json.Marshal(want.Values)
			eb, _ := json.Marshal(exp["values"])
			if exp["values"] != nil && string(wb) != string(eb) {
				t.Errorf("%s: %s: the oracle answers %s, the corpus expects %s", filepath.Base(file), fc.Name, wb, eb)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no corpus case")
	}
	t.Logf("%d corpus cases agree with the oracle", n)
}
