package test

import (
	"net/http"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// TestReadYourWritesOverHTTP: once this PDP's admin API has acknowledged
// that tom is disabled, no decision of this PDP allows him, also when Redis
// is killed right after the acknowledgement, although the stale bound
// (an hour here) would let cached facts answer: the acknowledged write
// dropped them. Maria's facts, cached before and of the same org, are
// dropped too.
func TestReadYourWritesOverHTTP(t *testing.T) {
	rs := redistest.Start(t)
	importCorpus(t, rs.URL(), loadCorpus(t, "../data/demo.json"))
	pdp := startPDP(t, serve.Config{RedisURL: rs.URL(), Auth: "none", StaleFactsMax: time.Hour})
	base := "http://" + pdp.Addr
	for _, u := range []string{"u-tom", "u-maria"} {
		if d, ok := tryAsk(base, u); !ok || !d.Decision {
			t.Fatalf("%s before: %+v", u, d)
		}
	}
	if code := post(t, base+"/admin/v1/orgs/demo/users/u-tom/disable", "", map[string]any{}, nil); code != http.StatusOK {
		t.Fatalf("disable: %d", code)
	}
	rs.Stop(t)
	for i := range 20 {
		for _, u := range []string{"u-tom", "u-maria"} {
			d, ok := tryAsk(base, u)
			if !ok || d.Decision || d.Context["reason"] != "unavailable" {
				t.Fatalf("attempt %d, %s after the acknowledged disable, Redis down: %+v (want a deny, unavailable)", i, u, d)
			}
		}
	}
}
