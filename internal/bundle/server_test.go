package bundle

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/authn"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/oidctest"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

type served struct {
	st  *store.Store
	url string
	pub VerificationKey
}

// serveDemo imports the demo org into a fresh Redis and serves its bundles.
func serveDemo(t *testing.T, v *authn.Verifier) served {
	return serveDemoWith(t, v, nil)
}

func serveDemoWith(t *testing.T, v *authn.Verifier, policies func() Policies) served {
	t.Helper()
	rs := redistest.Start(t)
	st, err := store.Open(store.Config{URL: rs.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	c := demo(t)
	if _, err := st.PutOrg(context.Background(), &c.Orgs[0], -1, store.Actor{Subject: "test"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := ecSigner(t)
	srv, err := NewServer(ctx, ServerConfig{Store: st, Policies: builtin(t), PolicySource: policies, Signer: s, Verifier: v, Debounce: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv.feedBlock = 200 * time.Millisecond
	hs := httptest.NewServer(srv.Wrap(http.NotFoundHandler()))
	t.Cleanup(hs.Close)
	return served{st: st, url: hs.URL, pub: s.PublicKey()}
}

type answer struct {
	status int
	etag   string
	rev    string
	body   []byte
}

func get(t *testing.T, url string, header map[string]string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header.Get("ETag"), resp.Header.Get("X-Verdict-Revision"), b}
}

// TestServeConditionalAndLongPoll: ETag and If-None-Match, a long poll that
// times out with 304 and one that a write ends with the rebuilt bundle.
func TestServeConditionalAndLongPoll(t *testing.T) {
	s := serveDemo(t, nil)
	ctx := context.Background()
	url := s.url + "/bundles/demo/all.tar.gz"
	a := get(t, url, nil)
	rev, _ := s.st.Revision(ctx, "demo")
	if a.status != 200 || a.etag == "" || a.rev != strconv.FormatInt(rev, 10) {
		t.Fatalf("first GET: %d etag %q revision %q (store at %d)", a.status, a.etag, a.rev, rev)
	}
	b, err := Read(a.body, &s.pub)
	if err != nil {
		t.Fatal(err)
	}
	if b.Manifest.Revision != a.rev {
		t.Errorf("manifest revision %q, header %q", b.Manifest.Revision, a.rev)
	}
	if n := get(t, url, map[string]string{"If-None-Match": a.etag}); n.status != http.StatusNotModified || len(n.body) != 0 {
		t.Errorf("If-None-Match: %d", n.status)
	}
	if p := get(t, s.url+"/bundles/demo/prod.tar.gz", nil); p.status != 200 || p.etag == a.etag {
		t.Errorf("prod bundle: %d etag %q (all: %q)", p.status, p.etag, a.etag)
	}
	// No change: the long poll ends with 304 when its wait is over (how
	// long it waited is not asserted: a test asserts no duration).
	if n := get(t, url, map[string]string{"If-None-Match": a.etag, "Prefer": "modes=snapshot,delta;wait=1"}); n.status != http.StatusNotModified {
		t.Errorf("idle long poll: %d", n.status)
	}
	// A write ends the long poll with the new bundle.
	done := make(chan answer, 1)
	go func() { done <- get(t, url, map[string]string{"If-None-Match": a.etag, "Prefer": "wait=40"}) }()
	time.Sleep(200 * time.Millisecond)
	c := demo(t)
	c.Orgs[0].Users = c.Orgs[0].Users[1:]
	newRev, err := s.st.PutOrg(ctx, &c.Orgs[0], -1, store.Actor{Subject: "test"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-done:
		if n.status != 200 || n.rev != strconv.FormatInt(newRev, 10) || n.etag == a.etag {
			t.Errorf("long poll after a write: %d revision %q (want %d)", n.status, n.rev, newRev)
		}
	case <-time.After(60 * time.Second): // a hang guard, not a speed goal
		t.Fatal("the long poll did not end after a write")
	}
}

// TestServeErrors: unknown orgs and paths are 404, a malformed org id 400
// (the one org id rule), writes 405.
func TestServeErrors(t *testing.T) {
	s := serveDemo(t, nil)
	for path, want := range map[string]int{
		"/bundles/nope/all.tar.gz":  404,
		"/bundles/demo/all.zip":     404,
		"/bundles/Demo/all.tar.gz":  400,
		"/bundles/demo/nope.tar.gz": 404,
		"/bundles/../x":             404,
	} {
		if a := get(t, s.url+path, nil); a.status != want {
			t.Errorf("%s: %d, want %d (%s)", path, a.status, want, a.body)
		}
	}
	resp, err := http.Post(s.url+"/bundles/demo/all.tar.gz", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
}

// TestServeAuthenticatesCallers: with sign-in on, a bundle (the whole org)
// goes to callers of that org only.
func TestServeAuthenticatesCallers(t *testing.T) {
	issuer := oidctest.Start(t)
	v, err := authn.New(context.Background(), authn.Config{IssuerURL: issuer.URL(), Audience: oidctest.DefaultAudience})
	if err != nil {
		t.Fatal(err)
	}
	s := serveDemo(t, v)
	url := s.url + "/bundles/demo/all.tar.gz"
	bearer := func(claims map[string]any) map[string]string {
		return map[string]string{"Authorization": "Bearer " + issuer.Token(t, claims)}
	}
	if a := get(t, url, nil); a.status != http.StatusUnauthorized {
		t.Errorf("no token: %d", a.status)
	}
	if a := get(t, url, bearer(map[string]any{"sub": "edge", "org": "acme"})); a.status != http.StatusForbidden {
		t.Errorf("another org's caller: %d", a.status)
	}
	if a := get(t, url, bearer(map[string]any{"sub": "edge"})); a.status != http.StatusForbidden {
		t.Errorf("a caller without org: %d", a.status)
	}
	if a := get(t, url, bearer(map[string]any{"sub": "edge", "org": "demo"})); a.status != 200 {
		t.Errorf("own org's caller: %d %s", a.status, a.body)
	}
}

// TestServeRebuildsOnPolicyReload: a PDP that reloads its policies gets
// them into every bundle without a write; a long poll ends with them.
func TestServeRebuildsOnPolicyReload(t *testing.T) {
	var mu sync.Mutex
	current := builtin(t)
	s := serveDemoWith(t, nil, func() Policies { mu.Lock(); defer mu.Unlock(); return current })
	url := s.url + "/bundles/demo/all.tar.gz"
	a := get(t, url, nil)
	done := make(chan answer, 1)
	go func() { done <- get(t, url, map[string]string{"If-None-Match": a.etag, "Prefer": "wait=40"}) }()
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	reloaded := Policies{Modules: map[string]string{}}
	for k, v := range current.Modules {
		reloaded.Modules[k] = v
	}
	reloaded.Modules["ext/helpers.rego"] = "package helpers\n\nanswer := 42\n"
	current = reloaded
	mu.Unlock()
	select {
	case n := <-done:
		b, err := Read(n.body, &s.pub)
		if n.status != 200 || n.etag == a.etag || err != nil {
			t.Fatalf("after a reload: %d %v", n.status, err)
		}
		found := false
		for _, m := range b.Modules {
			found = found || m.Path == "/verdict/orgs/demo/ext/helpers.rego"
		}
		if !found || a.rev != n.rev {
			t.Errorf("reloaded module in the bundle: %v; revision %s -> %s (the org did not change)", found, a.rev, n.rev)
		}
	case <-time.After(60 * time.Second): // a hang guard, not a speed goal
		t.Fatal("a policy reload did not reach the bundle")
	}
}
