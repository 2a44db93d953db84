package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/conformance"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/apispec"
	"github.com/verdict-pdp/verdict/internal/testutil/oidctest"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// startPDP starts `verdict serve` in-process on a free port.
func startPDP(t testing.TB, cfg serve.Config) *serve.Server {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	srv, err := serve.Start(context.Background(), &cfg, log, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	apispec.Central().Watch(t, srv.Addr)
	return srv
}

// importCorpus puts a corpus's orgs into the store behind redisURL.
func importCorpus(t testing.TB, redisURL string, c *orgdoc.Corpus) {
	t.Helper()
	st, err := store.Open(store.Config{URL: redisURL})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range c.Orgs {
		if _, err := st.PutOrg(context.Background(), &c.Orgs[i], -1, store.Actor{Subject: "e2e"}); err != nil {
			t.Fatal(err)
		}
	}
}

// post sends JSON and decodes the answer; it returns the status.
func post(t *testing.T, url, token string, body any, out any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %s: %v", url, raw, err)
		}
	}
	return resp.StatusCode
}

// TestCorporaOverHTTP: every corpus, imported into real Redis, replayed over
// HTTP against `verdict serve`, passes as it does in-process.
func TestCorporaOverHTTP(t *testing.T) {
	rs := redistest.Start(t)
	pdp := startPDP(t, serve.Config{RedisURL: rs.URL(), Auth: "none"})
	for _, f := range corpora(t) {
		c := loadCorpus(t, f)
		importCorpus(t, rs.URL(), c)
		res := conformance.Run(context.Background(), c, conformance.NewRemote("http://"+pdp.Addr, ""))
		for _, fl := range res.Failures {
			t.Errorf("%s: %s\n  expected: %s\n  actual:   %s", f, fl.Name, fl.Expected, fl.Actual)
		}
		if want := len(c.Evaluations) + len(c.Filters); res.Passed != want {
			t.Errorf("%s: %d of %d passed over HTTP", f, res.Passed, want)
		}
	}
}

type answer struct {
	Decision bool           `json:"decision"`
	Context  map[string]any `json:"context"`
}

// TestCallersAndSubjectTokens: callers sign in with tokens from a real OIDC
// issuer; their org claim scopes what they may ask; a subject's own token
// stands in for its stored record, and a bad one is refused, never ignored.
func TestCallersAndSubjectTokens(t *testing.T) {
	rs := redistest.Start(t)
	issuer := oidctest.Start(t)
	importCorpus(t, rs.URL(), loadCorpus(t, "../data/demo.json"))
	pdp := startPDP(t, serve.Config{RedisURL: rs.URL(), OIDCIssuer: issuer.URL(), OIDCAudience: oidctest.DefaultAudience})
	url := "http://" + pdp.Addr + "/access/v1/evaluation"
	caller := issuer.Token(t, map[string]any{"sub": "svc-portal", "org": "demo"})
	req := func(user string, props map[string]any) map[string]any {
		return map[string]any{
			"subject":  map[string]any{"type": "user", "id": user, "properties": props},
			"action":   map[string]any{"name": "launch"},
			"resource": map[string]any{"type": "ui_flow", "id": "review", "properties": map[string]any{"project": "mortgage"}},
			"context":  map[string]any{"org": "demo", "environment": "prod"},
		}
	}
	var d answer
	if code := post(t, url, "", req("u-tom", nil), nil); code != http.StatusUnauthorized {
		t.Errorf("no caller token: %d, want 401", code)
	}
	if code := post(t, url, issuer.ExpiredToken(t, map[string]any{"org": "demo"}), req("u-tom", nil), nil); code != http.StatusUnauthorized {
		t.Errorf("expired caller token: %d, want 401", code)
	}
	other := issuer.Token(t, map[string]any{"sub": "svc-x", "org": "acme"})
	if code := post(t, url, other, req("u-tom", nil), nil); code != http.StatusForbidden {
		t.Errorf("caller of another org: %d, want 403", code)
	}
	if code := post(t, url, caller, req("u-tom", nil), &d); code != http.StatusOK || !d.Decision {
		t.Errorf("tom launches review as Teller: %d %+v", code, d)
	}
	// maria has no role on review; her own token says designerUser, but she
	// has no designer access to mortgage: still denied.
	mariaTok := issuer.Token(t, map[string]any{"sub": "u-maria", "org": "demo", "designerUser": true})
	if code := post(t, url, caller, req("ignored", map[string]any{"token": mariaTok}), &d); code != http.StatusOK || d.Decision {
		t.Errorf("maria by token: %d %+v", code, d)
	}
	// ada is org_admin and a designer user in her record; her token says she
	// is not a designer user: the token wins, no bypass.
	adaTok := issuer.Token(t, map[string]any{"sub": "u-ada", "org": "demo", "designerUser": "false"})
	if code := post(t, url, caller, req("u-ada", nil), &d); code != http.StatusOK || !d.Decision {
		t.Errorf("ada by record (bypass): %d %+v", code, d)
	}
	if code := post(t, url, caller, req("u-ada", map[string]any{"token": adaTok}), &d); code != http.StatusOK || d.Decision {
		t.Errorf("ada by token (no bypass): %d %+v", code, d)
	}
	// A subject token that does not verify is a 401, not a fallback.
	forged := issuer.TokenWithKey(t, oidctest.NewKey(t), map[string]any{"sub": "u-ada", "designerUser": true})
	if code := post(t, url, caller, req("u-ada", map[string]any{"token": forged}), nil); code != http.StatusUnauthorized {
		t.Errorf("forged subject token: %d, want 401", code)
	}
	// Filters read the token's attributes in place of the record's.
	tomTok := issuer.Token(t, map[string]any{"sub": "u-tom", "org": "demo", "attributes": map[string]any{"branch": []string{"south"}}})
	var f struct{ Values []string }
	if code := post(t, "http://"+pdp.Addr+"/v1/filters/applications_by_branch", caller, map[string]any{"token": tomTok}, &f); code != http.StatusOK ||
		len(f.Values) != 3 || f.Values[2] != "south" {
		t.Errorf("filter by token: %d %+v (want harbour, north from the group and south from the token)", code, f)
	}
}

// TestRedisDownFailsClosedAndRecovers: under load, with Redis stopped,
// decisions whose facts are cached keep their answer, marked stale (within
// --stale-facts-max), others are denied with a reason and /ready says why;
// once Redis is back (re-seeded, since the test server restarts empty)
// decisions recover without restarting Verdict, and no cached fact answers
// before its org was checked.
func TestRedisDownFailsClosedAndRecovers(t *testing.T) {
	rs := redistest.Start(t)
	demo := loadCorpus(t, "../data/demo.json")
	importCorpus(t, rs.URL(), demo)
	// A bound far above the test's length: the outage must not outlast it.
	pdp := startPDP(t, serve.Config{RedisURL: rs.URL(), Auth: "none", StaleFactsMax: time.Hour})
	base := "http://" + pdp.Addr
	ask := func(user string) answer {
		var d answer
		post(t, base+"/access/v1/evaluation", "", map[string]any{
			"subject": map[string]any{"type": "user", "id": user}, "action": map[string]any{"name": "access"},
			"resource": map[string]any{"type": "solution", "id": "mortgage"}, "context": map[string]any{"org": "demo", "environment": "prod"},
		}, &d)
		return d
	}
	if d := ask("u-tom"); !d.Decision {
		t.Fatalf("tom before the outage: %+v", d)
	}
	// Load in the background for the whole test: tom's facts are cached and
	// keep answering; lee's were never read, so while Redis is down no
	// decision about lee may be an allow.
	// rsDown tells the load goroutine that Redis is down, rsRestarted that
	// it was restarted (empty until the org is imported again).
	var rsDown, rsRestarted atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var bad atomic.Value
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			// Once Redis is restarted it is empty until the org is imported
			// again: a deny then is the right answer, not a lost cache.
			if d, ok := tryAsk(base, "u-tom"); ok && !d.Decision && !rsRestarted.Load() {
				bad.Store("tom was denied under load: " + fmt.Sprint(d))
			}
			// lee's answer counts when Redis was stopped before the request
			// was sent and not yet restarted when it was answered.
			if rsDown.Load() && !rsRestarted.Load() {
				if d, ok := tryAsk(base, "u-lee"); ok && d.Decision && !rsRestarted.Load() {
					bad.Store("lee (never cached) was allowed while Redis was down")
				}
			}
		}
	}()
	var once sync.Once
	stopLoad := func() { once.Do(func() { close(stop) }); wg.Wait() }
	defer stopLoad()
	rs.Stop(t)
	rsDown.Store(true)
	// Until the change feed notices the lost connection (a few ms; the
	// deadline is a hang guard, not a measure) tom's cached facts are current
	// by design and answer unmarked; from then on they answer marked stale.
	// Never a deny: both are tom's facts as last known.
	for deadline := time.Now().Add(hangGuard); ; {
		d := ask("u-tom")
		if !d.Decision {
			t.Fatalf("tom's cached facts should still answer: %+v", d)
		}
		if d.Context["stale"] == true {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tom's answers never said the facts are stale while Redis is down: %+v", d)
		}
		time.Sleep(10 * time.Millisecond)
	}
	d := ask("u-maria")
	if d.Decision || d.Context["reason"] != "unavailable" {
		t.Errorf("maria's facts were never read: want a deny with reason unavailable, got %+v", d)
	}
	if resp, err := httpc.Get(base + "/ready"); err != nil {
		t.Errorf("/ready with Redis down: %v", err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("/ready with Redis down: %d, want 503", resp.StatusCode)
		}
	}
	rsRestarted.Store(true)
	rs.Restart(t)
	importCorpus(t, rs.URL(), demo)
	rsDown.Store(false)
	deadline := time.Now().Add(hangGuard)
	for !ask("u-maria").Decision {
		if time.Now().After(deadline) {
			t.Fatal("decisions did not recover after Redis came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for {
		resp, err := httpc.Get(base + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/ready after recovery: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopLoad()
	if msg := bad.Load(); msg != nil {
		t.Error(msg)
	}
}

// tryAsk asks whether user may access mortgage in prod, without failing the
// test (it runs in a load goroutine).
func tryAsk(base, user string) (answer, bool) {
	b, _ := json.Marshal(map[string]any{
		"subject": map[string]any{"type": "user", "id": user}, "action": map[string]any{"name": "access"},
		"resource": map[string]any{"type": "solution", "id": "mortgage"}, "context": map[string]any{"org": "demo", "environment": "prod"},
	})
	resp, err := httpc.Post(base+"/access/v1/evaluation", "application/json", bytes.NewReader(b))
	if err != nil {
		return answer{}, false
	}
	defer resp.Body.Close()
	var d answer
	return d, resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&d) == nil
}
