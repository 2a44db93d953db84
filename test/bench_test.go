package test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/verdict-pdp/verdict/internal/assemble"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// benchCorpus is the acme corpus when ../shared is present, else the demo.
func benchCorpus(b *testing.B) string {
	if p := filepath.Join(sharedDir, "acme.json"); fileExists(p) {
		return p
	}
	b.Logf("%s absent: benchmarking the demo corpus", sharedDir)
	return "../data/demo.json"
}

// BenchmarkDecision measures one in-process decision (facts assembly and
// policy evaluation, no HTTP), cycling through every evaluation of the corpus.
func BenchmarkDecision(b *testing.B) {
	benchDecisions(b, false)
}

// BenchmarkDecisionExplain is the same with explain on (reasons computed).
func BenchmarkDecisionExplain(b *testing.B) {
	benchDecisions(b, true)
}

func benchDecisions(b *testing.B, explain bool) {
	c := loadCorpus(b, benchCorpus(b))
	svc, err := pdp.New(pdp.Config{}, newEngine(b), assemble.NewDocSource(c.Orgs))
	if err != nil {
		b.Fatal(err)
	}
	reqs := make([]*authzen.Request, 0, len(c.Evaluations))
	for _, ev := range c.Evaluations {
		r, err := authzen.ParseRequest(ev.Request)
		if err != nil {
			b.Fatal(err)
		}
		if explain && r.Context != nil {
			r.Context["explain"] = true
		}
		reqs = append(reqs, r)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := svc.Evaluate(ctx, reqs[i%len(reqs)], nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFilter measures one business filter answer.
func BenchmarkFilter(b *testing.B) {
	c := loadCorpus(b, benchCorpus(b))
	svc, err := pdp.New(pdp.Config{}, newEngine(b), assemble.NewDocSource(c.Orgs))
	if err != nil {
		b.Fatal(err)
	}
	f := c.Filters[0].Filter
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.Filter(ctx, decision.FilterRequest{Org: f.Org, User: f.User, Filter: f.Filter}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteToDecision measures one write, from the store's answer
// until the next decision of a PDP over HTTP changes: the change feed
// (XREAD), cache invalidation, the facts read again (real Redis, real HTTP;
// figure in docs/benchmarks.md).
//
//	go test -run '^$' -bench WriteToDecision -benchtime 200x ./test/
func BenchmarkWriteToDecision(b *testing.B) {
	rs := redistest.Start(b)
	importCorpus(b, rs.URL(), loadCorpus(b, "../data/demo.json"))
	pdp := startPDP(b, serve.Config{RedisURL: rs.URL(), Auth: "none", DefaultOrg: "demo"})
	base := "http://" + pdp.Addr
	w := newShareWriter(b, rs.URL())
	teller := false
	for b.Loop() {
		teller = !teller
		w.write(b, teller)
		waitFlow(b, base, "u-maria", "review", teller)
	}
}
