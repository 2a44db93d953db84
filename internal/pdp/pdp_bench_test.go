package pdp_test

import (
	"context"
	"os"
	"testing"

	"github.com/verdict-pdp/verdict/internal/assemble"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/policies"
)

// BenchmarkEvaluate is one in-process decision on subject facts cut from an
// in-memory org (the acme corpus when ../shared is present, else the demo),
// cycling through the corpus's requests. test/ holds the same over Redis.
func BenchmarkEvaluate(b *testing.B) {
	path := "../../../shared/conformance/acme.json"
	if _, err := os.Stat(path); err != nil {
		path = "../../data/demo.json"
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	c, err := orgdoc.DecodeCorpus(raw)
	if err != nil {
		b.Fatal(err)
	}
	mods, _ := policies.Builtin()
	eng, err := engine.New(context.Background(), engine.Config{Modules: mods})
	if err != nil {
		b.Fatal(err)
	}
	svc, _ := pdp.New(pdp.Config{}, eng, assemble.NewDocSource(c.Orgs))
	var reqs []*authzen.Request
	for _, ev := range c.Evaluations {
		r, err := authzen.ParseRequest(ev.Request)
		if err != nil {
			b.Fatal(err)
		}
		reqs = append(reqs, r)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := svc.Evaluate(ctx, reqs[i%len(reqs)], nil); err != nil {
			b.Fatal(err)
		}
	}
}
