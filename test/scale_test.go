package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// The connections a test opens itself carry this client name, so that the
// PDP's connections can be counted apart (CLIENT LIST).
const testClientName = "verdict-test"

// scaleOrg is the id of the i-th copy of the demo org.
func scaleOrg(i int) string { return fmt.Sprintf("t%04d", i) }

// importScaleOrgs imports n copies of the demo org (t0000, t0001, ...) on a
// few connections of the test's own.
func importScaleOrgs(tb testing.TB, rdb redis.UniversalClient, n int) {
	tb.Helper()
	st, err := store.New(rdb, store.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	demo := loadCorpus(tb, "../data/demo.json").Orgs[0]
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				o := demo
				o.Org = scaleOrg(i)
				if _, err := st.PutOrg(context.Background(), &o, -1, store.Actor{Subject: "scale"}); err != nil {
					errs <- fmt.Errorf("import %s: %w", o.Org, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
}

// scaleRedis is a Redis (or a Cluster) and the test's own connections to
// it, named testClientName: a client for imports and reads, and one
// connection per node to watch the nodes.
type scaleRedis struct {
	url     string
	cluster bool
	client  redis.UniversalClient
	nodes   []*redis.Client
}

func singleRedis(tb testing.TB) *scaleRedis {
	rs := redistest.Start(tb)
	return &scaleRedis{url: rs.URL(), client: testClient(tb, rs.URL(), 4), nodes: []*redis.Client{testClient(tb, rs.URL(), 1)}}
}

func clusterRedis(tb testing.TB) *scaleRedis {
	c := redistest.StartCluster(tb, 3)
	r := &scaleRedis{url: c.URL(), cluster: true}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), ClientName: testClientName, PoolSize: 4})
	tb.Cleanup(func() { _ = cc.Close() })
	r.client = cc
	for _, a := range c.Addrs() {
		r.nodes = append(r.nodes, testClient(tb, "redis://"+a, 1))
	}
	return r
}

// testClient is a client of the test's own, named testClientName.
func testClient(tb testing.TB, redisURL string, pool int) *redis.Client {
	tb.Helper()
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		tb.Fatal(err)
	}
	opt.ClientName, opt.PoolSize = testClientName, pool
	c := redis.NewClient(opt)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// pdpClients counts the connections to each node that are not the test's
// own (the PDP's): their total and the most on one node.
func (r *scaleRedis) pdpClients(ctx context.Context) (total, perNode int, err error) {
	for _, n := range r.nodes {
		list, err := n.ClientList(ctx).Result()
		if err != nil {
			return 0, 0, err
		}
		c := 0
		for _, l := range strings.Split(strings.TrimSpace(list), "\n") {
			if l != "" && !strings.Contains(l, " name="+testClientName+" ") {
				c++
			}
		}
		total, perNode = total+c, max(perNode, c)
	}
	return total, perNode, nil
}

// commandCalls is how often the nodes ran a command (INFO commandstats).
func (r *scaleRedis) commandCalls(t *testing.T, cmd string) int64 {
	t.Helper()
	var total int64
	for _, n := range r.nodes {
		info, err := n.Info(context.Background(), "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(info, "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "cmdstat_"+cmd+":calls="); ok {
				var c int64
				fmt.Sscanf(rest, "%d", &c)
				total += c
			}
		}
	}
	return total
}

// checkKeys fails the test for any key that is not of one of the n imported
// orgs (or the global org list).
func (r *scaleRedis) checkKeys(t *testing.T, ctx context.Context, n int) {
	t.Helper()
	known := map[string]bool{}
	for i := range n {
		known[scaleOrg(i)] = true
	}
	bad := 0
	for _, node := range r.nodes {
		iter := node.Scan(ctx, 0, "*", 1000).Iterator()
		for iter.Next(ctx) {
			k := iter.Val()
			org := ""
			if a, b := strings.IndexByte(k, '{'), strings.IndexByte(k, '}'); a >= 0 && b > a {
				org = k[a+1 : b]
			}
			if !known[org] && k != "v:orgs" {
				if bad++; bad <= 10 {
					t.Errorf("key %.100q belongs to no imported org", k)
				}
			}
		}
		if err := iter.Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// scaleCase is one decision of the scale run and what it must answer.
type scaleCase struct {
	org, user string
	allow     bool
	reason    string // of a deny
}

// scaleCases asks, for each of n imported orgs, whether an active user (tom,
// allowed), an invited user (sam) and an unknown user may access mortgage in
// prod, and the same of tom in n orgs that do not exist; interleaved.
func scaleCases(n int) []scaleCase {
	var cs []scaleCase
	for i := range n {
		org := scaleOrg(i)
		cs = append(cs,
			scaleCase{org: org, user: "u-tom", allow: true},
			scaleCase{org: fmt.Sprintf("ghost-%04d", i), user: "u-tom", reason: "unknown_org"},
			scaleCase{org: org, user: "u-sam", reason: "subject_not_active"},
			scaleCase{org: org, user: "u-nobody", reason: "subject_not_active"},
		)
	}
	return cs
}

func accessBody(org, user string) []byte {
	b, _ := json.Marshal(map[string]any{
		"subject":  map[string]any{"type": "user", "id": user},
		"action":   map[string]any{"name": "access"},
		"resource": map[string]any{"type": "solution", "id": "mortgage"},
		"context":  map[string]any{"org": org, "environment": "prod"},
	})
	return b
}

// ask posts one evaluation and returns the status and the raw answer.
func ask(hc *http.Client, base string, body []byte) (int, []byte, error) {
	resp, err := hc.Post(base+"/access/v1/evaluation", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// check says what is wrong with an answer to c ("" when it is right).
func (c scaleCase) check(status int, raw []byte) string {
	var d answer
	if status != http.StatusOK || json.Unmarshal(raw, &d) != nil {
		return fmt.Sprintf("%s %s: %d %s", c.org, c.user, status, raw)
	}
	if d.Decision != c.allow || (!c.allow && d.Context["reason"] != c.reason) {
		return fmt.Sprintf("%s %s: %s, want decision %v reason %q", c.org, c.user, raw, c.allow, c.reason)
	}
	return ""
}

// watch polls fn every interval until stop is closed, concurrently with the
// run.
func watch(stop <-chan struct{}, wg *sync.WaitGroup, interval time.Duration, fn func()) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			fn()
			select {
			case <-stop:
				return
			case <-time.After(interval):
			}
		}
	}()
}

// TestThousandOrgs: many small orgs in one Redis (1,000) or in a Redis
// Cluster of three masters (300), decisions naming every one of them and as
// many orgs that do not exist, over HTTP from 16 callers at once against a
// PDP whose Redis pool is 8. Every answer is right, /ready stays 200
// throughout, the PDP never holds more Redis connections than its
// documented bound (the pool per node, plus the change feed's one pub/sub
// connection), decisions about unknown orgs write nothing, last_seen is
// written for the active users of known orgs only, and ids past the bounds
// are refused (400) before anything is read or written.
func TestThousandOrgs(t *testing.T) {
	cases := []struct {
		name  string
		orgs  int
		redis func(testing.TB) *scaleRedis
	}{
		{"redis", 1000, singleRedis},
		{"cluster", 300, clusterRedis},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { scaleRun(t, tc.redis(t), tc.orgs) })
	}
}

func scaleRun(t *testing.T, rd *scaleRedis, orgs int) {
	const pool, callers = 8, 16
	ctx := context.Background()
	importScaleOrgs(t, rd.client, orgs)
	srv := startPDP(t, serve.Config{RedisURL: rd.url, RedisCluster: rd.cluster, Auth: "none", RedisPoolSize: pool})
	base := "http://" + srv.Addr
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: callers}}

	// Watch /ready and the PDP's Redis connections while the run goes on.
	var notReady []string
	var maxTotal, maxPerNode atomic.Int64
	var watchErr atomic.Value
	stop := make(chan struct{})
	var watchers sync.WaitGroup
	watch(stop, &watchers, 20*time.Millisecond, func() {
		resp, err := hc.Get(base + "/ready")
		if err != nil {
			notReady = append(notReady, err.Error())
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			notReady = append(notReady, fmt.Sprintf("%d %s", resp.StatusCode, b))
		}
	})
	watch(stop, &watchers, 10*time.Millisecond, func() {
		total, perNode, err := rd.pdpClients(ctx)
		if err != nil {
			watchErr.Store(err)
			return
		}
		raise(&maxTotal, total)
		raise(&maxPerNode, perNode)
	})

	cases := scaleCases(orgs)
	var wrong []string
	var mu sync.Mutex
	var next atomic.Int64
	var callersWG sync.WaitGroup
	for range callers {
		callersWG.Add(1)
		go func() {
			defer callersWG.Done()
			for i := int(next.Add(1) - 1); i < len(cases); i = int(next.Add(1) - 1) {
				c := cases[i]
				status, raw, err := ask(hc, base, accessBody(c.org, c.user))
				msg := ""
				if err != nil {
					msg = fmt.Sprintf("%s %s: %v", c.org, c.user, err)
				} else {
					msg = c.check(status, raw)
				}
				if msg != "" {
					mu.Lock()
					wrong = append(wrong, msg)
					mu.Unlock()
				}
			}
		}()
	}
	callersWG.Wait()

	// Ids past the bounds: refused before the facts script runs or anything
	// is written.
	evals := func() int64 { return rd.commandCalls(t, "evalsha") + rd.commandCalls(t, "eval") }
	evalsBefore := evals()
	for _, tc := range []struct {
		name, org, user, field string
	}{
		{"a 100 kB subject id", scaleOrg(0), strings.Repeat("u", 100<<10), "subject.id"},
		{"a 900 kB context.org", strings.Repeat("o", 900<<10), "u-tom", "context.org"},
		{"an id one byte past the bound", scaleOrg(0), strings.Repeat("u", facts.MaxIDBytes+1), "subject.id"},
		{"an org one byte past the bound", strings.Repeat("o", facts.MaxOrgBytes+1), "u-tom", "context.org"},
	} {
		status, raw, err := ask(hc, base, accessBody(tc.org, tc.user))
		var e struct {
			Error struct{ Code, Field string }
		}
		if err != nil || status != http.StatusBadRequest || json.Unmarshal(raw, &e) != nil || e.Error.Field != tc.field {
			t.Errorf("%s: %d %.200s %v, want 400 naming %s", tc.name, status, raw, err, tc.field)
		}
	}
	if n := evals() - evalsBefore; n != 0 {
		t.Errorf("the refused requests ran %d scripts", n)
	}
	close(stop)
	watchers.Wait()

	for i, w := range wrong {
		if i == 20 {
			t.Errorf("... and %d more wrong answers", len(wrong)-20)
			break
		}
		t.Error(w)
	}
	if len(notReady) > 0 {
		t.Errorf("/ready was not 200 %d times, first: %s", len(notReady), notReady[0])
	}
	if err, _ := watchErr.Load().(error); err != nil {
		t.Fatalf("CLIENT LIST: %v", err)
	}
	nodes := int64(len(rd.nodes))
	if bound := nodes*pool + 1; maxTotal.Load() > bound || maxPerNode.Load() > pool+1 || maxTotal.Load() < 2 {
		t.Errorf("the PDP held up to %d Redis connections, %d on one node; the bound is %d (pool %d per node + the feed's pub/sub)",
			maxTotal.Load(), maxPerNode.Load(), bound, pool)
	}
	t.Logf("%d decisions, %d orgs, up to %d Redis connections of the PDP, %d on one node (bound %d)",
		len(cases), orgs, maxTotal.Load(), maxPerNode.Load(), nodes*pool+1)

	// Closing the PDP writes the pending last_seen sightings.
	srv.Close()
	rd.checkKeys(t, ctx, orgs)
	for i := range orgs {
		org := scaleOrg(i)
		seen, err := rd.client.HGetAll(ctx, "v:{"+org+"}:last_seen").Result()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := seen["u-tom"]; !ok || len(seen) != 1 {
			t.Errorf("%s: last_seen %v, want u-tom only (the one active user asked about)", org, seen)
		}
	}
}

// raise sets m to n if n is larger.
func raise(m *atomic.Int64, n int) {
	for cur := m.Load(); int64(n) > cur && !m.CompareAndSwap(cur, int64(n)); cur = m.Load() {
	}
}
