package facts_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
	"github.com/verdict-pdp/verdict/internal/verr"
)

var actor = store.Actor{Subject: "test"}

// access asks whether user may access the demo's mortgage in prod.
func access(org, user string) *authzen.Request {
	r, err := authzen.ParseRequest([]byte(fmt.Sprintf(`{"subject":{"type":"user","id":%q},"action":{"name":"access"},
		"resource":{"type":"solution","id":"mortgage"},"context":{"org":%q,"environment":"prod"}}`, user, org)))
	if err != nil {
		panic(err)
	}
	return r
}

// demoAs is the demo org under another id.
func demoAs(t testing.TB, id string) *orgdoc.Org {
	c := loadCorpus(t, "../../data/demo.json")
	o := c.Orgs[0]
	o.Org = id
	return &o
}

// waitFor polls cond; the deadline only guards against a hang: it is no
// measure of speed (write-to-decision times are benchmark figures).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// central opens the facts path of a PDP over rdb with one feed.
func central(t testing.TB, rdb redis.UniversalClient, st *store.Store, staleMax time.Duration) (*facts.Central, *pdp.Service) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c, err := facts.Open(ctx, rdb, facts.Config{
		Reader: facts.ReaderConfig{Prefix: st.OrgPrefix},
		Cache:  facts.CacheConfig{StaleMax: staleMax},
		Feed:   facts.FeedConfig{Channel: st.ChangesChannel(), PingEvery: 100 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := pdp.New(pdp.Config{}, newEngine(t), c)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the feed is healthy", c.Feed.Healthy)
	return c, svc
}

// TestFeedOnRedisAndCluster: one feed per process hears the writes of every
// org, on one Redis and on a Redis Cluster of three masters whose orgs live
// in different slots; a PDP that did not make a write sees it (cached facts
// are dropped), and the process holds one pub/sub connection whatever the
// number of orgs.
func TestFeedOnRedisAndCluster(t *testing.T) {
	cases := []struct {
		name string
		rdb  func(t *testing.T) redis.UniversalClient
	}{
		{"redis", func(t *testing.T) redis.UniversalClient {
			return redistest.Start(t).Client(t)
		}},
		{"cluster", func(t *testing.T) redis.UniversalClient {
			return redistest.StartCluster(t, 3).Client(t)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			rdb := tc.rdb(t)
			st, err := store.New(rdb, store.Config{})
			if err != nil {
				t.Fatal(err)
			}
			orgs := []string{"alpha", "beta", "gamma", "delta", "epsilon", "zeta"}
			for _, id := range orgs {
				if _, err := st.PutOrg(ctx, demoAs(t, id), -1, actor); err != nil {
					t.Fatalf("import %s: %v", id, err)
				}
			}
			if cc, ok := rdb.(*redis.ClusterClient); ok {
				// The orgs must live on several nodes for this to mean
				// anything.
				nodes := map[string]bool{}
				for _, id := range orgs {
					n, err := cc.MasterForKey(ctx, st.OrgPrefix(id)+"rev")
					if err != nil {
						t.Fatal(err)
					}
					nodes[n.Options().Addr] = true
				}
				if len(nodes) < 2 {
					t.Fatalf("the orgs all live on one node %v", nodes)
				}
			}
			c, svc := central(t, rdb, st, 0)
			for _, id := range orgs {
				if d, err := svc.Evaluate(ctx, access(id, "u-tom"), nil); !d.Decision || err != nil {
					t.Fatalf("%s: tom before: %+v %v", id, d, err)
				}
			}
			if n := c.Cache.Stats().Orgs; n != len(orgs) {
				t.Errorf("%d orgs held, want %d", n, len(orgs))
			}
			// Another PDP (the admin domain on its own client) disables tom
			// in every org; this PDP hears each write and answers anew.
			other := domain.New(st)
			for _, id := range orgs {
				if _, _, err := other.SetUserStatus(ctx, id, "u-tom", orgdoc.StatusDisabled, "", actor); err != nil {
					t.Fatal(err)
				}
			}
			for _, id := range orgs {
				waitFor(t, id+": tom's disable reaches the other PDP", func() bool {
					d, _ := svc.Evaluate(ctx, access(id, "u-tom"), nil)
					return !d.Decision && d.Context["reason"] == "subject_not_active"
				})
			}
			if c.Feed.Heard() < uint64(len(orgs)) {
				t.Errorf("the feed heard %d changes for %d writes", c.Feed.Heard(), len(orgs))
			}
			// One subscription for all of them: count pub/sub clients.
			if n := pubsubClients(t, rdb); n != 1 {
				t.Errorf("%d pub/sub connections for %d orgs, want 1", n, len(orgs))
			}
		})
	}
}

// pubsubClients counts the connections subscribed to a channel, on every
// node.
func pubsubClients(t *testing.T, rdb redis.UniversalClient) int {
	t.Helper()
	ctx := context.Background()
	count := func(c *redis.Client) int {
		list, err := c.ClientList(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, l := range strings.Split(list, "\n") {
			if strings.Contains(l, " sub=1 ") || strings.Contains(l, " psub=1 ") {
				n++
			}
		}
		return n
	}
	switch c := rdb.(type) {
	case *redis.Client:
		return count(c)
	case *redis.ClusterClient:
		// ForEachShard calls fn on every shard at once.
		var total atomic.Int64
		err := c.ForEachShard(ctx, func(ctx context.Context, s *redis.Client) error {
			total.Add(int64(count(s)))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return int(total.Load())
	}
	t.Fatalf("unexpected client %T", rdb)
	return 0
}

// TestReadYourWritesSurviveRedisLoss: once a write of this PDP is
// acknowledged (Invalidate), no decision is made on older facts, also when
// Redis goes down right after; while Redis is down, facts cached before are
// answered only within the stale bound, marked stale; when Redis comes back
// with other data, no cached fact answers before its org was checked.
func TestReadYourWritesSurviveRedisLoss(t *testing.T) {
	ctx := context.Background()
	rs := redistest.Start(t)
	rdb := rs.Client(t)
	st, _ := store.New(rdb, store.Config{})
	if _, err := st.PutOrg(ctx, demoAs(t, "demo"), -1, actor); err != nil {
		t.Fatal(err)
	}
	c, svc := central(t, rdb, st, time.Hour)
	for _, u := range []string{"u-tom", "u-maria"} {
		if d, _ := svc.Evaluate(ctx, access("demo", u), nil); !d.Decision {
			t.Fatalf("%s before: %+v", u, d)
		}
	}
	// This PDP's admin API disables tom: the write is acknowledged with the
	// cache invalidated at once, before the feed is heard from.
	if _, _, err := domain.New(st).SetUserStatus(ctx, "demo", "u-tom", orgdoc.StatusDisabled, "", actor); err != nil {
		t.Fatal(err)
	}
	c.Invalidate("demo")
	rs.Stop(t)
	for i := range 20 {
		d, err := svc.Evaluate(ctx, access("demo", "u-tom"), nil)
		if d.Decision {
			t.Fatalf("attempt %d: tom allowed after his disable was acknowledged: %+v", i, d)
		}
		if verr.CodeOf(err) != verr.Unavailable {
			t.Fatalf("tom with Redis down: %+v %v (want unavailable)", d, err)
		}
	}
	// Maria's facts were dropped with the org's (invalidation is per org):
	// nothing cached of demo answers after the acknowledged write.
	if d, _ := svc.Evaluate(ctx, access("demo", "u-maria"), nil); d.Decision {
		t.Fatalf("maria answered from facts older than an acknowledged write: %+v", d)
	}

	// Redis comes back empty; an org of the same name is imported with tom
	// active again and maria disabled. Revisions repeat; change ids do not.
	rs.Restart(t)
	o := demoAs(t, "demo")
	for i := range o.Users {
		if o.Users[i].ID == "u-maria" {
			o.Users[i].Status = orgdoc.StatusDisabled
		}
	}
	st2, _ := store.New(rs.Client(t), store.Config{})
	if _, err := st2.PutOrg(ctx, o, -1, actor); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "maria denied from the new data", func() bool {
		d, _ := svc.Evaluate(ctx, access("demo", "u-maria"), nil)
		return !d.Decision && d.Context["reason"] == "subject_not_active" && d.Context["stale"] == nil
	})
}

// TestStaleFactsAreBounded: with Redis unreachable, cached facts answer
// marked stale while they are younger than the bound, and fail closed past
// it; with a bound of 0 they never answer.
func TestStaleFactsAreBounded(t *testing.T) {
	cases := []struct {
		name     string
		staleMax time.Duration
		answers  bool
	}{
		{"within the bound", time.Hour, true},
		{"bound 0 fails closed at once", 0, false},
		{"past the bound", 300 * time.Millisecond, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			rs := redistest.Start(t)
			rdb := rs.Client(t)
			st, _ := store.New(rdb, store.Config{})
			if _, err := st.PutOrg(ctx, demoAs(t, "demo"), -1, actor); err != nil {
				t.Fatal(err)
			}
			c, svc := central(t, rdb, st, tc.staleMax)
			if d, _ := svc.Evaluate(ctx, access("demo", "u-tom"), nil); !d.Decision {
				t.Fatalf("tom before: %+v", d)
			}
			rs.Stop(t)
			// Until the feed notices the loss, cached facts are current by
			// design (docs/consistency.md) and answer unmarked: every case
			// starts once it has (a condition, not a speed check).
			waitFor(t, "the feed notices the outage", func() bool { return !c.Feed.Healthy() })
			if tc.staleMax > 0 && !tc.answers {
				// Let the bound pass.
				time.Sleep(tc.staleMax + 100*time.Millisecond)
			}
			d, err := svc.Evaluate(ctx, access("demo", "u-tom"), nil)
			if tc.answers {
				age, _ := d.Context["stale_age_ms"].(int64)
				if !d.Decision || d.Context["stale"] != true || age < 0 || err != nil {
					t.Fatalf("want a stale allow with its age: %+v %v", d, err)
				}
				return
			}
			if d.Decision || d.Context["reason"] != "unavailable" || verr.CodeOf(err) != verr.Unavailable {
				t.Fatalf("want a deny (unavailable): %+v %v", d, err)
			}
		})
	}
}

// TestUnknownOrgsStartNothing: decisions naming orgs that do not exist are
// denied unknown_org, hold no state and write nothing.
func TestUnknownOrgsStartNothing(t *testing.T) {
	ctx := context.Background()
	rs := redistest.Start(t)
	rdb := rs.Client(t)
	st, _ := store.New(rdb, store.Config{})
	if _, err := st.PutOrg(ctx, demoAs(t, "demo"), -1, actor); err != nil {
		t.Fatal(err)
	}
	c, svc := central(t, rdb, st, 0)
	keys, _ := rdb.DBSize(ctx).Result()
	for i := range 200 {
		d, err := svc.Evaluate(ctx, access(fmt.Sprintf("ghost-%d", i), "u-tom"), nil)
		if d.Decision || d.Context["reason"] != "unknown_org" || err != nil {
			t.Fatalf("ghost-%d: %+v %v", i, d, err)
		}
	}
	if n := c.Cache.Stats().Orgs; n != 0 {
		t.Errorf("%d org states held for unknown orgs", n)
	}
	if after, _ := rdb.DBSize(ctx).Result(); after != keys {
		t.Errorf("decisions about unknown orgs wrote keys: %d -> %d", keys, after)
	}
	if n := pubsubClients(t, rdb); n != 1 {
		t.Errorf("%d pub/sub connections, want 1", n)
	}
	// Ids past the bounds are refused before anything is read.
	long := strings.Repeat("x", facts.MaxIDBytes+1)
	if _, err := svc.Evaluate(ctx, access("demo", long), nil); verr.CodeOf(err) != verr.InvalidInput {
		t.Errorf("a %d-byte subject id: %v", len(long), err)
	}
	if _, err := svc.Evaluate(ctx, access(strings.Repeat("o", facts.MaxOrgBytes+1), "u-tom"), nil); verr.CodeOf(err) != verr.InvalidInput {
		t.Errorf("a long org: %v", err)
	}
}

// countingListener counts the changes it hears.
type countingListener struct{ n atomic.Int64 }

func (l *countingListener) Changed(facts.Change)         { l.n.Add(1) }
func (l *countingListener) Resync(context.Context) error { return nil }

// A listener added while the feed runs (the bundle server, after the facts
// path) hears every change from then on.
func TestLateListenerHears(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	st, _ := store.New(rdb, store.Config{})
	if _, err := st.PutOrg(ctx, demoAs(t, "demo"), -1, actor); err != nil {
		t.Fatal(err)
	}
	c, _ := central(t, rdb, st, 0)
	l := &countingListener{}
	c.Feed.Listen(l)
	if _, _, err := domain.New(st).SetUserStatus(ctx, "demo", "u-tom", orgdoc.StatusDisabled, "", actor); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the late listener hears the write", func() bool { return l.n.Load() == 1 })
}

// TestDecisionCacheNeverOutlivesFacts: an answer kept by the decision cache
// is trusted no longer than the facts it was computed from (the cache's
// MaxAge from when they were read), so the MaxAge safety net also covers
// answers computed late in their facts' life. The write below reaches Redis
// without its notification (a lost message: the feed stays up and hears
// nothing).
func TestDecisionCacheNeverOutlivesFacts(t *testing.T) {
	const maxAge = 3 * time.Second
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	st, _ := store.New(rdb, store.Config{})
	if _, err := st.PutOrg(ctx, demoAs(t, "demo"), -1, actor); err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c, err := facts.Open(fctx, rdb, facts.Config{
		Reader: facts.ReaderConfig{Prefix: st.OrgPrefix},
		Cache:  facts.CacheConfig{MaxAge: maxAge},
		Feed:   facts.FeedConfig{Channel: st.ChangesChannel(), PingEvery: 100 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := pdp.New(pdp.Config{}, newEngine(t), c)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the feed is healthy", c.Feed.Healthy)

	read := time.Now()
	if d, _ := svc.Evaluate(ctx, access("demo", "u-tom"), nil); !d.Decision {
		t.Fatalf("tom: %+v", d)
	}
	// Later in the facts' life, another request about tom is decided from
	// the same cached facts and its answer kept.
	time.Sleep(maxAge / 2)
	explained := func() *authzen.Request {
		r := access("demo", "u-tom")
		r.Context["explain"] = true
		return r
	}
	hits := c.Stats().Hits
	if d, _ := svc.Evaluate(ctx, explained(), nil); !d.Decision {
		t.Fatalf("tom, explained: %+v", d)
	}
	if c.Stats().Hits != hits+1 {
		t.Fatalf("the second request did not use the cached facts (the machine is too slow for this test's %v)", maxAge)
	}
	// Tom is disabled; the notification is lost.
	p := st.OrgPrefix("demo")
	raw, err := rdb.HGet(ctx, p+"users", "u-tom").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.HSet(ctx, p+"users", "u-tom", strings.Replace(raw, `"status":"active"`, `"status":"disabled"`, 1)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Incr(ctx, p+"rev").Err(); err != nil {
		t.Fatal(err)
	}
	// Past the facts' MaxAge, before that of the second answer.
	time.Sleep(time.Until(read.Add(maxAge + 200*time.Millisecond)))
	if d, _ := svc.Evaluate(ctx, explained(), nil); d.Decision {
		t.Errorf("an answer outlived the facts it was computed from: %+v", d)
	}
	if d, _ := svc.Evaluate(ctx, access("demo", "u-tom"), nil); d.Decision {
		t.Errorf("facts past their MaxAge answered: %+v", d)
	}
}

// TestFactsCachedAgainAfterDataLoss: when Redis comes back without the
// writes the cache had seen (a restart without persistence, a failover that
// lost writes), revisions start again lower; once the org was checked and
// its entries dropped, its facts are cached again at the new revisions
// instead of being read from Redis for every decision.
func TestFactsCachedAgainAfterDataLoss(t *testing.T) {
	ctx := context.Background()
	rs := redistest.Start(t)
	rdb := rs.Client(t)
	st, _ := store.New(rdb, store.Config{})
	if _, err := st.PutOrg(ctx, demoAs(t, "demo"), -1, actor); err != nil {
		t.Fatal(err)
	}
	for range 3 { // revisions the new data will not reach
		if _, _, err := domain.New(st).SetUserStatus(ctx, "demo", "u-sam", orgdoc.StatusActive, "", actor); err != nil {
			t.Fatal(err)
		}
	}
	c, svc := central(t, rdb, st, 0)
	for _, u := range []string{"u-tom", "u-maria"} {
		if d, _ := svc.Evaluate(ctx, access("demo", u), nil); !d.Decision {
			t.Fatalf("%s before: %+v", u, d)
		}
	}
	rs.Stop(t)
	waitFor(t, "the feed notices the outage", func() bool { return !c.Feed.Healthy() })
	rs.Restart(t)
	st2, _ := store.New(rs.Client(t), store.Config{})
	if _, err := st2.PutOrg(ctx, demoAs(t, "demo"), -1, actor); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the feed is back", c.Feed.Healthy)
	// The import's change notification may reach the feed after it is
	// healthy again (when it resubscribed before the import) and drop what
	// was just kept: then the next read is kept for good. Facts that are
	// never kept again fail at the deadline. Each attempt asks a request the
	// decision cache has not seen (its key is the whole request), so that
	// the facts cache is asked.
	attempt := 0
	for _, u := range []string{"u-tom", "u-maria", "u-lee"} {
		waitFor(t, u+": facts read at the new revision are cached", func() bool {
			attempt++
			plain := access("demo", u)
			plain.Context["attempt"] = attempt
			if d, err := svc.Evaluate(ctx, plain, nil); err != nil || !d.Decision { // read (and kept)
				t.Fatalf("%s after: %+v %v", u, d, err)
			}
			explained := access("demo", u)
			explained.Context["explain"] = true
			explained.Context["attempt"] = attempt
			hits := c.Stats().Hits
			if d, err := svc.Evaluate(ctx, explained, nil); err != nil || !d.Decision {
				t.Fatalf("%s after: %+v %v", u, d, err)
			}
			return c.Stats().Hits == hits+1
		})
	}
}
