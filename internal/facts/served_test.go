package facts_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/verdict-pdp/verdict/internal/assemble"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// TestServedSummariesDecideAlike: the central PDP keeps what a subject is
// served in a project and environment with its cached facts after the first
// decision there; every later decision reads it back. Every corpus case,
// explained, answers the same on the first pass (computing), on the second
// (reading the kept summary) and from the whole org in memory.
func TestServedSummariesDecideAlike(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	st, _ := store.New(rdb, store.Config{})
	e := newEngine(t)
	for _, file := range corpusFiles(t) {
		c := loadCorpus(t, file)
		for i := range c.Orgs {
			if _, err := st.PutOrg(ctx, &c.Orgs[i], -1, actor); err != nil {
				t.Fatal(err)
			}
		}
		cen, _ := central(t, rdb, st, 0)
		// No decision cache: every case is evaluated, on kept summaries the
		// second time.
		svc, _ := pdp.New(pdp.Config{DecisionCache: -1}, e, cen)
		mem, _ := pdp.New(pdp.Config{}, e, assemble.NewDocSource(c.Orgs))
		for pass := range 2 {
			for _, ev := range c.Evaluations {
				var req map[string]any
				if err := json.Unmarshal(ev.Request, &req); err != nil {
					t.Fatal(err)
				}
				if ctxm, ok := req["context"].(map[string]any); ok {
					ctxm["explain"] = true
				}
				raw, _ := json.Marshal(req)
				r1, _ := authzen.ParseRequest(raw)
				r2, _ := authzen.ParseRequest(raw)
				a, _ := svc.Evaluate(ctx, r1, nil)
				b, _ := mem.Evaluate(ctx, r2, nil)
				ja, _ := json.Marshal(a)
				jb, _ := json.Marshal(b)
				if string(ja) != string(jb) {
					t.Errorf("%s pass %d: %s\n  central: %s\n  memory:  %s", file, pass, ev.Name, ja, jb)
				}
			}
		}
		if s := cen.Cache.Stats(); s.Hits == 0 || s.Served == 0 {
			t.Errorf("%s: the second pass never read kept facts with summaries: %+v", file, s)
		}
	}
}
