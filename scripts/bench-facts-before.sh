#!/bin/sh
# bench-facts-before.sh: the facts-miss benchmarks before and after the facts
# package, on the same corpus and the same flags (docs/benchmarks.md).
#
#   scripts/bench-facts-before.sh [BENCHTIME]      (default 3s)
#
# "before" runs at commit bd7e1f2, when a decision's facts went Lua reply ->
# org document -> index -> AST (store.NewSource): a git worktree of that
# commit gets test/factsmiss_bench_test.go below, the same two benchmarks as
# this checkout's test/factsmiss_bench_test.go with the old source. "after"
# runs this checkout's. Both read from a fresh Redis (internal/testutil/redistest).
set -eu

BEFORE=bd7e1f2
BENCHTIME=${1:-3s}
root=$(cd "$(dirname "$0")/.." && pwd)
corpus="$root/../shared/conformance/acme.json"
[ -f "$corpus" ] || corpus="$root/data/demo.json"
export VERDICT_BENCH_CORPUS="$corpus"

dir=$(mktemp -d)
cleanup() { git -C "$root" worktree remove --force "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
git -C "$root" worktree add --detach "$dir" "$BEFORE" >/dev/null

cat >"$dir/test/factsmiss_bench_test.go" <<'EOF'
package test

import (
	"context"
	"os"
	"testing"

	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

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

func factsMissSetup(b *testing.B) (*store.Source, []*authzen.Request) {
	path := os.Getenv("VERDICT_BENCH_CORPUS")
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
	src := store.NewSource(st)
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
EOF

echo "== before ($BEFORE), corpus $corpus"
(cd "$dir" && go test -run '^$' -bench 'FactsMiss' -benchmem -benchtime "$BENCHTIME" ./test/)
echo "== after ($(git -C "$root" rev-parse --short HEAD)), corpus $corpus"
(cd "$root" && go test -run '^$' -bench 'FactsMiss' -benchmem -benchtime "$BENCHTIME" ./test/)
