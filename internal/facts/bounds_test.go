package facts_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// TestFactsPathBounded (docs/limits.md): decisions about more subjects,
// orgs and projects than the facts path's bounds leave it at its bounds —
// the facts cache at MaxEntries (--facts-cache), decoded build manifests
// at MaxProjects, shared decoded records at MaxShared — and it keeps
// deciding right.
func TestFactsPathBounded(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	st, err := store.New(rdb, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	const orgs = 6
	for i := range orgs {
		if _, err := st.PutOrg(ctx, demoAs(t, fmt.Sprintf("org-%d", i)), -1, actor); err != nil {
			t.Fatal(err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	const maxEntries, maxProjects, maxShared = 10, 2, 8
	c, err := facts.Open(cctx, rdb, facts.Config{
		Reader: facts.ReaderConfig{Prefix: st.OrgPrefix, MaxProjects: maxProjects, MaxShared: maxShared},
		Cache:  facts.CacheConfig{MaxEntries: maxEntries},
		Feed:   facts.FeedConfig{Channel: st.ChangesChannel()},
	})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := pdp.New(pdp.Config{DecisionCache: -1}, newEngine(t), c)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the feed is up", c.Feed.Healthy)
	for i := range 300 {
		org := fmt.Sprintf("org-%d", i%orgs)
		user := []string{"u-tom", "u-maria", "u-lee", fmt.Sprintf("u-nobody-%d", i)}[i%4]
		d, err := svc.Evaluate(ctx, access(org, user), nil)
		if err != nil {
			t.Fatalf("%s %s: %v", org, user, err)
		}
		if user == "u-tom" && !d.Decision {
			t.Fatalf("%s tom denied at decision %d: %+v", org, i, d)
		}
	}
	if n := c.Cache.Stats().Entries; n > maxEntries {
		t.Errorf("%d facts cached, bound %d", n, maxEntries)
	}
	builds, shared := c.Reader.Kept()
	if builds > maxProjects || builds == 0 {
		t.Errorf("%d projects' build manifests kept, bound %d", builds, maxProjects)
	}
	if shared > maxShared || shared == 0 {
		t.Errorf("%d shared records kept, bound %d", shared, maxShared)
	}
}
