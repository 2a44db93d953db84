package facts_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
	"github.com/verdict-pdp/verdict/internal/verr"
	"github.com/verdict-pdp/verdict/policies"
)

// corpusFiles are the corpora with orgs whose every record kind is present
// (the shared acme corpus when ../shared is beside the repo, and the demo).
func corpusFiles(t *testing.T) []string {
	out := []string{"../../data/demo.json"}
	if _, err := os.Stat("../../../shared/conformance/acme.json"); err == nil {
		out = append(out, "../../../shared/conformance/acme.json")
	}
	return out
}

func loadCorpus(t testing.TB, path string) *orgdoc.Corpus {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := orgdoc.DecodeCorpus(raw)
	if err != nil {
		t.Fatal(err)
	}
	return c
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

// corruption rewrites one stored record so that it no longer decodes the way
// its kind must: not JSON, a member of the wrong type, an unknown member
// (a renamed member would otherwise silently vanish, and a deny with it).
type corruption struct {
	name    string
	rewrite func(raw string) string
}

var corruptions = []corruption{
	{"truncated", func(raw string) string { return raw[:len(raw)/2] }},
	{"wrong type", func(raw string) string {
		if strings.HasPrefix(raw, "[") {
			return "[1]"
		}
		return `{"#":1,"roles":5,"attributes":5,"flow_permissions":5,"default":5,"username":5,"workspaces":5,"branch":5}`
	}},
	{"unknown member", func(raw string) string {
		if strings.HasPrefix(raw, "{") {
			return `{"unexpected":true,` + raw[1:]
		}
		return `[{"unexpected":true}]`
	}},
}

// TestInvalidFactsFailClosed corrupts, one kind at a time, every record of
// every kind the facts script reads, in a real Redis, and replays every
// corpus: a case that was a deny is still a deny, every answer that changed
// is a deny with reason facts_invalid naming the key and field, and every
// corruption of a kind that some case reads is noticed by some case.
func TestInvalidFactsFailClosed(t *testing.T) {
	rs := redistest.Shared(t)
	rdb := rs.Client(t)
	ctx := context.Background()
	e := newEngine(t)
	for _, file := range corpusFiles(t) {
		c := loadCorpus(t, file)
		// Every kind of record a decision reads: hashes of the org, and the
		// fields of the project environment hashes.
		kinds := []struct {
			name, key string // key: the suffix after the org prefix; "env:*" and "builds:*" match all
			field     string // "" = every field
		}{
			{"users", "users", ""},
			{"user_groups", "user_groups", ""},
			{"groups", "groups", ""},
			{"legacy", "legacy", ""},
			{"dgroups_of", "dgroups_of", ""},
			{"droles", "droles", ""},
			{"projects", "projects", ""},
			{"builds", "builds:*", ""},
			{"active policy", "env:*", "ap"},
			{"role overrides", "env:*", "ro"},
			{"user shares", "env:*", "su:"},
			{"group shares", "env:*", "sg:"},
			{"username overrides", "env:*", "uo:"},
			{"group overrides", "env:*", "go:"},
			{"filters", "filters", ""},
			{"org settings", "org", "settings"},
		}
		for _, kind := range kinds {
			for _, cor := range corruptions {
				t.Run(file+"/"+kind.name+"/"+cor.name, func(t *testing.T) {
					if err := rdb.FlushAll(ctx).Err(); err != nil {
						t.Fatal(err)
					}
					st, err := store.New(rdb, store.Config{})
					if err != nil {
						t.Fatal(err)
					}
					for i := range c.Orgs {
						if _, err := st.PutOrg(ctx, &c.Orgs[i], -1, store.Actor{Subject: "test"}); err != nil {
							t.Fatal(err)
						}
					}
					r, err := facts.NewReader(rdb, facts.ReaderConfig{Prefix: st.OrgPrefix})
					if err != nil {
						t.Fatal(err)
					}
					svc, _ := pdp.New(pdp.Config{}, e, r)
					before := decideAll(t, svc, c)
					n := 0
					for i := range c.Orgs {
						n += corrupt(t, rdb, st.OrgPrefix(c.Orgs[i].Org), kind.key, kind.field, cor.rewrite)
					}
					if n == 0 {
						t.Skipf("no %s record in this corpus", kind.name)
					}
					// A fresh reader: nothing decoded before the corruption.
					r, _ = facts.NewReader(rdb, facts.ReaderConfig{Prefix: st.OrgPrefix})
					svc, _ = pdp.New(pdp.Config{}, e, r)
					after := decideAll(t, svc, c)
					noticed := 0
					for i, name := range caseNames(c) {
						b, a := before[i], after[i]
						if a.Context["reason"] == "facts_invalid" {
							noticed++
							if a.Decision || a.Context["key"] == nil || a.Context["field"] == nil {
								t.Errorf("%s: facts_invalid must deny and name the key and field: %+v", name, a)
							}
							continue
						}
						if !b.Decision && a.Decision {
							t.Errorf("%s: a deny became an allow with %d %s records corrupted: %+v", name, n, kind.name, a)
						}
						if b.Decision != a.Decision || b.Context["values"] != a.Context["values"] {
							t.Errorf("%s: the answer changed without facts_invalid: %+v -> %+v", name, b, a)
						}
					}
					if noticed == 0 {
						t.Errorf("%d corrupted %s records and no decision said facts_invalid", n, kind.name)
					}
				})
			}
		}
	}
}

// decideAll answers every evaluation of c, then every filter case (as an
// allow whose context holds the values, or a deny whose reason is the
// error's code).
func decideAll(t *testing.T, svc *pdp.Service, c *orgdoc.Corpus) []decision.Decision {
	t.Helper()
	out := make([]decision.Decision, 0, len(c.Evaluations)+len(c.Filters))
	for _, ev := range c.Evaluations {
		r, err := authzen.ParseRequest(ev.Request)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := svc.Evaluate(context.Background(), r, nil)
		out = append(out, d)
	}
	for _, fc := range c.Filters {
		f, err := svc.Filter(context.Background(), decision.FilterRequest{Org: fc.Filter.Org, User: fc.Filter.User, Filter: fc.Filter.Filter})
		if err != nil {
			e := verr.As(err)
			ctx := map[string]any{"reason": string(e.Code)}
			for k, v := range e.Detail {
				ctx[k] = v
			}
			out = append(out, decision.Decision{Context: ctx})
			continue
		}
		out = append(out, decision.Decision{Decision: true, Context: map[string]any{"values": strings.Join(f.Values, ",")}})
	}
	return out
}

// caseNames names decideAll's answers.
func caseNames(c *orgdoc.Corpus) []string {
	var out []string
	for _, ev := range c.Evaluations {
		out = append(out, ev.Name)
	}
	for _, fc := range c.Filters {
		out = append(out, "filter "+fc.Name)
	}
	return out
}

// corrupt rewrites the matching fields of the matching hashes under prefix
// and returns how many it rewrote.
func corrupt(t *testing.T, rdb *redis.Client, prefix, key, field string, rewrite func(string) string) int {
	t.Helper()
	ctx := context.Background()
	var keys []string
	if strings.HasSuffix(key, "*") {
		var err error
		if keys, err = rdb.Keys(ctx, prefix+key).Result(); err != nil {
			t.Fatal(err)
		}
	} else {
		keys = []string{prefix + key}
	}
	n := 0
	for _, k := range keys {
		h, err := rdb.HGetAll(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		for f, raw := range h {
			if field != "" && f != field && !(strings.HasSuffix(field, ":") && strings.HasPrefix(f, field)) {
				continue
			}
			if err := rdb.HSet(ctx, k, f, rewrite(raw)).Err(); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	return n
}

// The issue's own case: a project's flow permissions that do not decode no
// longer fall back to rule 7's default allow.
func TestUndecodableFlowPermissionsDeny(t *testing.T) {
	file := "../../../shared/conformance/acme.json"
	if _, err := os.Stat(file); err != nil {
		t.Skip("needs ../shared/conformance/acme.json")
	}
	rdb := redistest.Shared(t).Client(t)
	ctx := context.Background()
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	st, _ := store.New(rdb, store.Config{})
	c := loadCorpus(t, file)
	if _, err := st.PutOrg(ctx, &c.Orgs[0], -1, store.Actor{Subject: "test"}); err != nil {
		t.Fatal(err)
	}
	r, _ := facts.NewReader(rdb, facts.ReaderConfig{Prefix: st.OrgPrefix})
	svc, _ := pdp.New(pdp.Config{}, newEngine(t), r)
	req, _ := authzen.ParseRequest([]byte(`{"subject":{"type":"user","id":"u-bob"},"action":{"name":"run"},
		"resource":{"type":"flow","id":"sync_crm","properties":{"project":"loans"}},"context":{"org":"acme","environment":"prod"}}`))
	if d, _ := svc.Evaluate(ctx, req, nil); d.Decision {
		t.Fatalf("bob runs sync_crm before any corruption: %+v", d)
	}
	raw, err := rdb.HGet(ctx, st.OrgPrefix("acme")+"projects", "loans").Result()
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		t.Fatal(err)
	}
	rec["flow_permissions"] = "not permissions"
	b, _ := json.Marshal(rec)
	rdb.HSet(ctx, st.OrgPrefix("acme")+"projects", "loans", string(b))
	r, _ = facts.NewReader(rdb, facts.ReaderConfig{Prefix: st.OrgPrefix})
	svc, _ = pdp.New(pdp.Config{}, newEngine(t), r)
	d, err := svc.Evaluate(ctx, req, nil)
	if d.Decision || d.Context["reason"] != "facts_invalid" || d.Context["field"] != "loans" ||
		d.Context["path"] != "/flow_permissions" || !strings.HasSuffix(d.Context["key"].(string), "projects") || err == nil {
		t.Fatalf("undecodable flow permissions: %+v %v", d, err)
	}
}
