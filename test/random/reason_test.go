package random

import (
	"testing"
)

// TestEveryDenyHasReason: every deny carries context.reason (README: "A
// denial always carries context.reason"), on random cases decided
// in-process.
func TestEveryDenyHasReason(t *testing.T) {
	eng := newEngine(t)
	for _, base := range bases() {
		orgs, cases := makeCases(base, 3000)
		bad := 0
		for _, o := range orgs {
			svc := docPDP(eng, o)
			for _, c := range cases {
				if c.org != o {
					continue
				}
				got, err := evaluate(svc, c.req)
				if err != nil {
					t.Fatalf("%s: %v", c, err)
				}
				p := parse(got)
				if p.Decision || str(p.Context, "reason") != "" {
					continue
				}
				if bad++; bad <= 5 {
					sh := &shrinker{t: t, eng: eng}
					shrunk := sh.shrink("deny without a reason", c)
					t.Errorf("%s: a deny without context.reason: %s\n%s", c, got, shrunk)
				}
			}
		}
		if bad > 0 {
			t.Errorf("base seed %d: %d denies without a reason", base, bad)
		}
	}
}
