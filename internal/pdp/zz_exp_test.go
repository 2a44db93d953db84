package pdp_test

import (
	"context"
	"os"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/verdict-pdp/verdict/internal/assemble"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/policies"
)

func BenchmarkExpParts(b *testing.B) {
	raw, _ := os.ReadFile("../../../shared/conformance/acme.json")
	c, _ := orgdoc.DecodeCorpus(raw)
	src := assemble.NewDocSource(c.Orgs)
	ctx := context.Background()
	var reqs []*authzen.Request
	var ins, fs []ast.Value
	for _, ev := range c.Evaluations {
		r, _ := authzen.ParseRequest(ev.Request)
		reqs = append(reqs, r)
		in, _ := r.Value()
		ins = append(ins, in)
		f, _ := src.Facts(ctx, pdp.ScopeOf(r))
		fs = append(fs, f.Value)
	}
	b.Run("facts", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			src.Facts(ctx, pdp.ScopeOf(reqs[i%len(reqs)]))
		}
	})
	b.Run("input", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			reqs[i%len(reqs)].Value()
		}
	})
	mods, _ := policies.Builtin()
	eng, _ := engine.New(ctx, engine.Config{Modules: mods})
	b.Run("eval", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			eng.Decide(ctx, ins[i%len(reqs)], fs[i%len(reqs)])
		}
	})
	one, _ := engine.New(ctx, engine.Config{Modules: map[string]string{"x.rego": "package verdict.main\ndecision := {\"decision\": input.action.name == \"x\"}\n"}})
	b.Run("trivial", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			one.Decide(ctx, ins[i%len(reqs)], fs[i%len(reqs)])
		}
	})
}
