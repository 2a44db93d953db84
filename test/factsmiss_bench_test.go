package test

import (
	"context"
	"os"
	"testing"

	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// The facts-miss benchmarks: a decision whose facts are read from a real
// Redis every time (no facts cache, no decision cache), cycling through the
// corpus's evaluations. scripts/bench-facts-before.sh runs the same two
// benchmarks at the commit before internal/facts (store.NewSource), for the
// before/after figures of docs/benchmarks.md. VERDICT_BENCH_CORPUS names the
// corpus (default: acme when ../shared is present, else the demo).

// BenchmarkFactsMissRead is the facts step alone: one script call, its
// reply decoded into the AST the policies read.
func BenchmarkFactsMissRead(b *testing.B) {
	src, reqs := factsMissSetup(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := src.Facts(ctx, pdp.ScopeOf(reqs[i%len(reqs)])); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFactsMissDecision is a whole in-process decision whose facts are
// read from Redis: the facts step plus the policy evaluation.
func BenchmarkFactsMissDecision(b *testing.B) {
	src, reqs := factsMissSetup(b)
	svc, err := pdp.New(pdp.Config{DecisionCache: -1}, newEngine(b), src)
	if err != nil {
		b.Fatal(err)
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

// factsMissSetup imports the corpus into a fresh Redis and returns a source
// that reads every decision's facts from it, and the corpus's requests.
func factsMissSetup(b *testing.B) (*facts.Reader, []*authzen.Request) {
	path := os.Getenv("VERDICT_BENCH_CORPUS")
	if path == "" {
		path = benchCorpus(b)
	}
	c := loadCorpus(b, path)
	rdb := redistest.Start(b).Client(b)
	st, err := store.New(rdb, store.Config{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range c.Orgs {
		if _, err := st.PutOrg(context.Background(), &c.Orgs[i], -1, store.Actor{Subject: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
	src, err := facts.NewReader(rdb, facts.ReaderConfig{Prefix: st.OrgPrefix})
	if err != nil {
		b.Fatal(err)
	}
	reqs := make([]*authzen.Request, 0, len(c.Evaluations))
	for _, ev := range c.Evaluations {
		r, err := authzen.ParseRequest(ev.Request)
		if err != nil {
			b.Fatal(err)
		}
		reqs = append(reqs, r)
	}
	b.Logf("corpus %s: %d requests", path, len(reqs))
	return src, reqs
}
