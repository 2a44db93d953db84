package edge_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/api"
	"github.com/verdict-pdp/verdict/internal/authn"
	"github.com/verdict-pdp/verdict/internal/bundle"
	"github.com/verdict-pdp/verdict/internal/conformance"
	"github.com/verdict-pdp/verdict/internal/edge"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/testutil/oidctest"
	"github.com/verdict-pdp/verdict/policies"
)

func signer(t testing.TB) *bundle.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	s, err := bundle.NewSigner(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func demo(t testing.TB) *orgdoc.Corpus {
	t.Helper()
	raw, err := os.ReadFile("../../data/demo.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := orgdoc.DecodeCorpus(raw)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// build returns a bundle archive of o.
func build(t testing.TB, o *orgdoc.Org, s *bundle.Signer, rev string) []byte {
	t.Helper()
	mods, err := policies.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Build(context.Background(), bundle.Spec{Org: o, Revision: rev, Policies: bundle.Policies{Modules: mods}, Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	// Write then rename, as a deployment would: the edge never reads half a file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

type running struct {
	*edge.Edge
	URL string
}

func start(t testing.TB, cfg edge.Config, v *authn.Verifier) running {
	t.Helper()
	cfg.FilePoll = 50 * time.Millisecond
	if testing.Verbose() {
		cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	e, err := edge.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	h, err := api.New(api.Config{}, api.Deps{PDP: e, Ready: e.Ready, Verifier: v})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return running{e, srv.URL}
}

// hangGuard bounds the waits of these tests: only a broken build takes that
// long; no test asserts how fast a bundle activates.
const hangGuard = 2 * time.Minute

// waitRevision waits until the edge serves exactly want ("org@rev ...").
func waitRevision(t testing.TB, e *edge.Edge, want string) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for e.Revision() != want {
		if time.Now().After(deadline) {
			t.Fatalf("edge serves %q, want %q (ready: %v)", e.Revision(), want, e.Ready(context.Background()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func post(t testing.TB, url string, body any, out any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
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

// TestFileBundlesDecideTheCorpus: two orgs (one whose id needs quoting in
// Rego) on one edge from files; the demo corpus passes over HTTP.
func TestFileBundlesDecideTheCorpus(t *testing.T) {
	c := demo(t)
	s := signer(t)
	dir := t.TempDir()
	other := c.Orgs[0]
	other.Org = "demo-2"
	writeFile(t, filepath.Join(dir, "demo.tar.gz"), build(t, &c.Orgs[0], s, "1"))
	writeFile(t, filepath.Join(dir, "demo-2.tar.gz"), build(t, &other, s, "5"))
	e := start(t, edge.Config{
		Bundles:         []string{filepath.Join(dir, "demo.tar.gz"), filepath.Join(dir, "demo-2.tar.gz")},
		VerificationKey: s.PublicKey(),
	}, nil)
	waitRevision(t, e.Edge, "demo@1 demo-2@5")
	if err := e.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	res := conformance.Run(context.Background(), c, conformance.NewRemote(e.URL, ""))
	for _, f := range res.Failures {
		t.Errorf("%s\n  expected: %s\n  actual:   %s", f.Name, f.Expected, f.Actual)
	}
	// The same request on the second org: same answer, its own data.
	req := map[string]any{
		"subject": map[string]any{"type": "user", "id": "u-tom"}, "action": map[string]any{"name": "access"},
		"resource": map[string]any{"type": "solution", "id": "mortgage"}, "context": map[string]any{"org": "demo-2", "environment": "prod"},
	}
	var d struct {
		Decision bool
		Context  map[string]any
	}
	if code := post(t, e.URL+"/access/v1/evaluation", req, &d); code != 200 || !d.Decision {
		t.Errorf("demo-2: %d %+v", code, d)
	}
	req["context"] = map[string]any{"org": "nope", "environment": "prod"}
	if post(t, e.URL+"/access/v1/evaluation", req, &d); d.Decision || d.Context["reason"] != "unknown_org" {
		t.Errorf("unknown org: %+v", d)
	}
	// Decision data is not served by the data API; policy paths are.
	var out map[string]any
	if code := post(t, e.URL+"/v1/data/verdict_data/orgs/demo", map[string]any{"input": req}, &out); code != http.StatusForbidden {
		t.Errorf("verdict_data over the data API: %d %v", code, out)
	}
	req["context"] = map[string]any{"org": "demo"}
	req["resource"] = map[string]any{"type": "solution"}
	if code := post(t, e.URL+"/v1/data/verdict/search/resources", map[string]any{"input": req}, &out); code != 200 || out["result"] == nil {
		t.Errorf("search over the data API: %d %v", code, out)
	}
}

// TestRefusedBundleKeepsThePreviousOne: a tampered, an unsigned and a
// garbage file each leave the active bundle serving; a good one replaces it.
func TestRefusedBundleKeepsThePreviousOne(t *testing.T) {
	c := demo(t)
	s := signer(t)
	path := filepath.Join(t.TempDir(), "demo.tar.gz")
	writeFile(t, path, build(t, &c.Orgs[0], s, "1"))
	e := start(t, edge.Config{Bundles: []string{path}, VerificationKey: s.PublicKey()}, nil)
	waitRevision(t, e.Edge, "demo@1")
	changed := c.Orgs[0]
	changed.Users = nil // everyone unknown: every runtime decision flips to deny
	bad := map[string][]byte{
		"unsigned":     build(t, &changed, nil, "2"),
		"foreign key":  build(t, &changed, signer(t), "2"),
		"not a bundle": []byte("garbage"),
	}
	for name, b := range bad {
		writeFile(t, path, b)
		time.Sleep(300 * time.Millisecond) // several polls
		if got := e.Revision(); got != "demo@1" {
			t.Fatalf("%s: the edge now serves %q", name, got)
		}
		if err := e.Ready(context.Background()); err != nil {
			t.Errorf("%s: not ready while the previous bundle serves: %v", name, err)
		}
	}
	res := conformance.Run(context.Background(), c, conformance.NewRemote(e.URL, ""))
	if len(res.Failures) > 0 {
		t.Errorf("after refused bundles: %d failures, first %+v", len(res.Failures), res.Failures[0])
	}
	writeFile(t, path, build(t, &changed, s, "3"))
	waitRevision(t, e.Edge, "demo@3")
}

// TestNothingActiveFailsClosed: with no bundle active (the only one is
// unsigned) /ready is 503 naming it and decisions are denied.
func TestNothingActiveFailsClosed(t *testing.T) {
	c := demo(t)
	path := filepath.Join(t.TempDir(), "demo.tar.gz")
	writeFile(t, path, build(t, &c.Orgs[0], nil, "1"))
	e := start(t, edge.Config{Bundles: []string{path}, VerificationKey: signer(t).PublicKey()}, nil)
	time.Sleep(200 * time.Millisecond)
	resp, err := http.Get(e.URL + "/ready")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "demo.tar.gz") {
		t.Errorf("/ready: %d %s", resp.StatusCode, body)
	}
	var d struct {
		Decision bool
		Context  map[string]any
	}
	post(t, e.URL+"/access/v1/evaluation", map[string]any{
		"subject": map[string]any{"type": "user", "id": "u-tom"}, "action": map[string]any{"name": "access"},
		"resource": map[string]any{"type": "solution", "id": "mortgage"}, "context": map[string]any{"org": "demo", "environment": "prod"},
	}, &d)
	if d.Decision || d.Context["reason"] != "unavailable" {
		t.Errorf("decision with nothing active: %+v", d)
	}
}

// bundleHost serves one archive the way the central PDP does (ETag, 304),
// and can go away.
type bundleHost struct {
	mu   sync.Mutex
	body []byte
	etag string
	down bool
	hits int
}

func (h *bundleHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hits++
	if h.down {
		http.Error(w, "control plane down", http.StatusBadGateway)
		return
	}
	w.Header().Set("ETag", h.etag)
	if r.Header.Get("If-None-Match") == h.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(h.body)
}

// TestPersistedBundleStartsWithoutControlPlane: an edge that downloaded a
// bundle once restarts from its data dir while the control plane is down.
func TestPersistedBundleStartsWithoutControlPlane(t *testing.T) {
	c := demo(t)
	s := signer(t)
	host := &bundleHost{body: build(t, &c.Orgs[0], s, "4"), etag: `"v4"`}
	srv := httptest.NewServer(host)
	defer srv.Close()
	dataDir := t.TempDir()
	cfg := edge.Config{Bundles: []string{srv.URL + "/bundles/demo/all.tar.gz"}, VerificationKey: s.PublicKey(), DataDir: dataDir}
	first := start(t, cfg, nil)
	waitRevision(t, first.Edge, "demo@4")
	// OPA persists after activating: wait for the file.
	persisted := filepath.Join(dataDir, "bundles", "demo.all", "bundle.tar.gz")
	for deadline := time.Now().Add(hangGuard); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(persisted); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no persisted bundle at %s", persisted)
		}
	}
	first.Close()
	host.mu.Lock()
	host.down = true
	host.mu.Unlock()
	second := start(t, cfg, nil)
	waitRevision(t, second.Edge, "demo@4")
	if err := second.Ready(context.Background()); err != nil {
		t.Errorf("restarted from disk but not ready: %v", err)
	}
	res := conformance.Run(context.Background(), c, conformance.NewRemote(second.URL, ""))
	if len(res.Failures) > 0 {
		t.Errorf("from the persisted bundle: %d failures, first %+v", len(res.Failures), res.Failures[0])
	}
	// A persisted file someone replaced is not loaded.
	second.Close()
	writeFile(t, persisted, build(t, &c.Orgs[0], signer(t), "9"))
	third := start(t, cfg, nil)
	time.Sleep(300 * time.Millisecond)
	if got := third.Revision(); got != "" {
		t.Errorf("a tampered persisted bundle was activated: %q", got)
	}
}

// TestSubjectTokenOnEdge: a verified subject token stands in for the stored
// record on the edge too (ada's token says she is no designer user: no
// bypass), and the filter reads the token's attributes.
func TestSubjectTokenOnEdge(t *testing.T) {
	c := demo(t)
	s := signer(t)
	path := filepath.Join(t.TempDir(), "demo.tar.gz")
	writeFile(t, path, build(t, &c.Orgs[0], s, "1"))
	issuer := oidctest.Start(t)
	v, err := authn.New(context.Background(), authn.Config{IssuerURL: issuer.URL(), Audience: oidctest.DefaultAudience})
	if err != nil {
		t.Fatal(err)
	}
	e := start(t, edge.Config{Bundles: []string{path}, VerificationKey: s.PublicKey()}, v)
	waitRevision(t, e.Edge, "demo@1")
	caller := issuer.Token(t, map[string]any{"sub": "svc", "org": "demo"})
	ask := func(props map[string]any) (int, bool) {
		b, _ := json.Marshal(map[string]any{
			"subject":  map[string]any{"type": "user", "id": "u-ada", "properties": props},
			"action":   map[string]any{"name": "launch"},
			"resource": map[string]any{"type": "ui_flow", "id": "review", "properties": map[string]any{"project": "mortgage"}},
			"context":  map[string]any{"org": "demo", "environment": "prod"},
		})
		req, _ := http.NewRequest(http.MethodPost, e.URL+"/access/v1/evaluation", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+caller)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var d struct{ Decision bool }
		_ = json.NewDecoder(resp.Body).Decode(&d)
		return resp.StatusCode, d.Decision
	}
	if code, ok := ask(nil); code != 200 || !ok {
		t.Errorf("ada by record (bypass): %d %v", code, ok)
	}
	adaTok := issuer.Token(t, map[string]any{"sub": "u-ada", "org": "demo", "designerUser": "false"})
	if code, ok := ask(map[string]any{"token": adaTok}); code != 200 || ok {
		t.Errorf("ada by token (no bypass): %d %v", code, ok)
	}
	tomTok := issuer.Token(t, map[string]any{"sub": "u-tom", "org": "demo", "attributes": map[string]any{"branch": []string{"south"}}})
	b, _ := json.Marshal(map[string]any{"token": tomTok})
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/v1/filters/applications_by_branch", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+caller)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var f struct {
		Values []string
		SQL    struct{ Where string }
	}
	_ = json.NewDecoder(resp.Body).Decode(&f)
	if len(f.Values) != 3 || f.Values[2] != "south" || !strings.Contains(f.SQL.Where, "south") {
		t.Errorf("filter by token: %d %+v", resp.StatusCode, f)
	}
}

// TestSubjectSearchOnEdge: the edge holds every user, so subject search
// works without the central PDP, paged.
func TestSubjectSearchOnEdge(t *testing.T) {
	c := demo(t)
	s := signer(t)
	path := filepath.Join(t.TempDir(), "demo.tar.gz")
	writeFile(t, path, build(t, &c.Orgs[0], s, "1"))
	e := start(t, edge.Config{Bundles: []string{path}, VerificationKey: s.PublicKey()}, nil)
	waitRevision(t, e.Edge, "demo@1")
	var all []string
	token := ""
	for range 10 {
		var out struct {
			Results []struct{ ID string }
			Page    struct {
				NextToken string `json:"next_token"`
			}
		}
		body := map[string]any{
			"subject": map[string]any{"type": "user"}, "action": map[string]any{"name": "access"},
			"resource": map[string]any{"type": "solution", "id": "mortgage"}, "context": map[string]any{"org": "demo", "environment": "prod"},
			"page": map[string]any{"limit": 1, "token": token},
		}
		if code := post(t, e.URL+"/access/v1/search/subject", body, &out); code != 200 {
			t.Fatalf("search: %d", code)
		}
		for _, r := range out.Results {
			all = append(all, r.ID)
		}
		if token = out.Page.NextToken; token == "" {
			break
		}
	}
	if len(all) == 0 || !contains(all, "u-tom") {
		t.Errorf("subjects allowed to access mortgage in prod: %v", all)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
