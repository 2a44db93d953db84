package facts_test

import (
	"context"
	"testing"

	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// BenchmarkCentralDecision is one in-process decision of the central PDP on
// facts read from a real Redis: "miss" reads the facts every time (no
// cache), "kept" decides on cached facts with the subject's served summary
// (a front end's session: one subject, project and environment, another
// resource each time), with no decision cache in either.
//
//	go test -run '^$' -bench BenchmarkCentralDecision -benchmem ./internal/facts/
func BenchmarkCentralDecision(b *testing.B) {
	ctx := context.Background()
	rdb := redistest.Start(b).Client(b)
	st, _ := store.New(rdb, store.Config{})
	c := loadCorpus(b, "../../data/demo.json")
	for i := range c.Orgs {
		if _, err := st.PutOrg(ctx, &c.Orgs[i], -1, actor); err != nil {
			b.Fatal(err)
		}
	}
	e := newEngine(b)
	var reqs []*authzen.Request
	for _, ev := range c.Evaluations {
		r, err := authzen.ParseRequest(ev.Request)
		if err != nil {
			b.Fatal(err)
		}
		reqs = append(reqs, r)
	}
	r, _ := facts.NewReader(rdb, facts.ReaderConfig{Prefix: st.OrgPrefix})
	miss, _ := pdp.New(pdp.Config{DecisionCache: -1}, e, r)
	b.Run("miss", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := miss.Evaluate(ctx, reqs[i%len(reqs)], nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	cen, _ := central(b, rdb, st, 0)
	kept, _ := pdp.New(pdp.Config{DecisionCache: -1}, e, cen)
	b.Run("kept", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := kept.Evaluate(ctx, reqs[i%len(reqs)], nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
