package store_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/verdict-pdp/verdict/internal/conformance"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
	"github.com/verdict-pdp/verdict/internal/verr"
	"github.com/verdict-pdp/verdict/policies"
)

// corpusFiles are replayed through Redis: the demo always, acme when ../shared
// is present.
func corpusFiles(t *testing.T) []string {
	files := []string{"../../data/demo.json"}
	own, _ := filepath.Glob("../../test/corpus/*.json")
	files = append(files, own...)
	if _, err := os.Stat("../../../shared/conformance/acme.json"); err == nil {
		files = append(files, "../../../shared/conformance/acme.json")
	} else {
		t.Log("../shared is absent (a user's clone): replaying the demo corpus only")
	}
	return files
}

func loadCorpus(t *testing.T, path string) *orgdoc.Corpus {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := orgdoc.DecodeCorpus(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newStore(t *testing.T) *store.Store {
	t.Helper()
	srv := redistest.Shared(t)
	rdb := srv.Client(t)
	if err := rdb.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	st, err := store.New(rdb, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

var admin = store.Actor{Subject: "test-admin"}

// canonical renders an org document as JSON for comparison.
func canonical(t *testing.T, o *orgdoc.Org) string {
	t.Helper()
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	_ = json.Unmarshal(b, &v)
	b, _ = json.MarshalIndent(v, "", " ")
	return string(b)
}

func TestImportExportRoundTrip(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	for _, f := range corpusFiles(t) {
		c := loadCorpus(t, f)
		for i := range c.Orgs {
			o := &c.Orgs[i]
			rev, err := st.PutOrg(ctx, o, -1, admin)
			if err != nil {
				t.Fatalf("%s: %v", o.Org, err)
			}
			got, grev, err := st.GetOrg(ctx, o.Org)
			if err != nil {
				t.Fatal(err)
			}
			if grev != rev {
				t.Errorf("revision %d after import, export says %d", rev, grev)
			}
			if a, b := canonical(t, o), canonical(t, got); a != b {
				t.Errorf("%s: export differs from import\nimported: %s\nexported: %s", o.Org, a, b)
			}
		}
	}
}

func TestCorporaDecideFromRedis(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	mods, _ := policies.Builtin()
	eng, err := engine.New(ctx, engine.Config{Modules: mods})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range corpusFiles(t) {
		c := loadCorpus(t, f)
		for i := range c.Orgs {
			if _, err := st.PutOrg(ctx, &c.Orgs[i], -1, admin); err != nil {
				t.Fatal(err)
			}
		}
		r, err := facts.NewReader(st.Client(), facts.ReaderConfig{Prefix: st.OrgPrefix})
		if err != nil {
			t.Fatal(err)
		}
		svc, _ := pdp.New(pdp.Config{}, eng, r)
		res := conformance.Run(ctx, c, &conformance.Local{Service: svc})
		for _, fl := range res.Failures {
			t.Errorf("%s: %s\n  expected: %s\n  actual:   %s", f, fl.Name, fl.Expected, fl.Actual)
		}
		if want := len(c.Evaluations) + len(c.Filters); res.Passed != want {
			t.Errorf("%s: %d of %d passed", f, res.Passed, want)
		}
	}
}

func TestStaleRevisionRefusedAndBuildsImmutable(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	c := loadCorpus(t, "../../data/demo.json")
	o := &c.Orgs[0]
	rev, err := st.PutOrg(ctx, o, 0, admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutOrg(ctx, o, rev-1, admin); verr.CodeOf(err) != verr.PreconditionFailed {
		t.Fatalf("stale revision: got %v", err)
	}
	before, _, _ := st.GetOrg(ctx, o.Org)
	changed := loadCorpus(t, "../../data/demo.json").Orgs[0]
	changed.Projects[0].Builds[0].Roles = changed.Projects[0].Builds[0].Roles[:1]
	changed.Users = changed.Users[:1]
	if _, err := st.PutOrg(ctx, &changed, -1, admin); verr.CodeOf(err) != verr.Conflict {
		t.Fatalf("changed build: got %v", err)
	}
	after, arev, _ := st.GetOrg(ctx, o.Org)
	if canonical(t, before) != canonical(t, after) || arev != rev {
		t.Fatal("a refused import changed the stored org")
	}
	page, err := st.Audit(ctx, o.Org, "", 10)
	if err != nil || len(page.Entries) != 1 || page.Entries[0].Action != "org.replaced" || page.Entries[0].Actor != "test-admin" {
		t.Fatalf("audit: %+v %v", page, err)
	}
}
