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
func importScaleOrgs(tb testing.TB, redisURL string, n int) {
	tb.Helper()
	rdb := testClient(tb, redisURL, 4)
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

// pdpClients counts the connections to Redis that are not the test's own:
// the PDP's.
func pdpClients(ctx context.Context, rdb *redis.Client) (int, error) {
	list, err := rdb.ClientList(ctx).Result()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(list), "\n") {
		if l != "" && !strings.Contains(l, " name="+testClientName+" ") {
			n++
		}
	}
	return n, nil
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

// TestThousandOrgs: 1,000 small orgs in one Redis, decisions naming every
// one of them and 1,000 orgs that do not exist, over HTTP from 16 callers
// at once against a PDP whose Redis pool is 8. Every answer is right,
// /ready stays 200 throughout, the PDP never holds more Redis connections
// than its documented bound (pool + the change feed's one), decisions about
// unknown orgs write nothing, last_seen is written for the active users of
// known orgs only, and ids past the bounds are refused (400) before
// anything is read or written.
func TestThousandOrgs(t *testing.T) {
	const orgs, pool, callers = 1000, 8, 16
	ctx := context.Background()
	rs := redistest.Start(t)
	importScaleOrgs(t, rs.URL(), orgs)
	srv := startPDP(t, serve.Config{RedisURL: rs.URL(), Auth: "none", RedisPoolSize: pool})
	base := "http://" + srv.Addr
	mon := testClient(t, rs.URL(), 1)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: callers}}

	// Watch /ready and the PDP's Redis connections while the run goes on.
	var notReady []string
	var maxClients atomic.Int64
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
		n, err := pdpClients(ctx, mon)
		if err != nil {
			watchErr.Store(err)
			return
		}
		for cur := maxClients.Load(); int64(n) > cur && !maxClients.CompareAndSwap(cur, int64(n)); cur = maxClients.Load() {
		}
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
	evals := func() int64 { return commandCalls(t, mon, "evalsha") + commandCalls(t, mon, "eval") }
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
	if bound := int64(pool + 1); maxClients.Load() > bound || maxClients.Load() < 2 {
		t.Errorf("the PDP held up to %d Redis connections; the bound is %d (pool %d + the feed's pub/sub)", maxClients.Load(), bound, pool)
	}
	t.Logf("%d decisions, %d orgs, up to %d Redis connections of the PDP (bound %d)", len(cases), orgs, maxClients.Load(), pool+1)

	// Closing the PDP writes the pending last_seen sightings.
	srv.Close()
	checkKeys(t, ctx, mon, orgs)
	for i := range orgs {
		org := scaleOrg(i)
		seen, err := mon.HGetAll(ctx, "v:{"+org+"}:last_seen").Result()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := seen["u-tom"]; !ok || len(seen) != 1 {
			t.Errorf("%s: last_seen %v, want u-tom only (the one active user asked about)", org, seen)
		}
	}
}

// checkKeys fails the test for any key that is not of one of the n imported
// orgs (or the global org list).
func checkKeys(t *testing.T, ctx context.Context, rdb *redis.Client, n int) {
	t.Helper()
	known := map[string]bool{}
	for i := range n {
		known[scaleOrg(i)] = true
	}
	iter := rdb.Scan(ctx, 0, "*", 1000).Iterator()
	bad := 0
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

// commandCalls is how often Redis ran a command (INFO commandstats).
func commandCalls(t *testing.T, rdb *redis.Client, cmd string) int64 {
	t.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "cmdstat_"+cmd+":calls="); ok {
			var n int64
			fmt.Sscanf(rest, "%d", &n)
			return n
		}
	}
	return 0
}
