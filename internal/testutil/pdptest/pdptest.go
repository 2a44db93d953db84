// Package pdptest runs the three evaluators that must agree on every
// decision, for end-to-end tests: the central PDP (`verdict serve`, facts
// from Redis), an edge PDP (`verdict edge`, signed bundles) and stock OPA
// (`opa run --server` of the version this module pins, on the same
// bundles). It also holds the small HTTP and JSON helpers those tests share.
//
// Everything here is test scaffolding: each server it starts is stopped by
// the test's Cleanup. Values are owned by the calling test; nothing is
// shared between tests except the stock OPA binary, built once per machine
// and version.
package pdptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/bundle"
	"github.com/verdict-pdp/verdict/internal/cmd/edgecmd"
	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/policies"
)

// Log is a logger for servers under test: warnings when the test is
// verbose, nothing otherwise.
func Log() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.DiscardHandler)
}

// Keys is a bundle signing key for a test and its PEM files.
type Keys struct {
	Signer  *bundle.Signer
	PubPath string // public key (PEM), what edges and stock OPA verify with
	KeyPath string // private key (PEM)
}

// NewKeys makes a fresh RSA signing key and writes its PEM files.
func NewKeys(t testing.TB) Keys {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	s, err := bundle.NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := Keys{Signer: s, PubPath: filepath.Join(dir, "pub.pem"), KeyPath: filepath.Join(dir, "key.pem")}
	if err := os.WriteFile(out.PubPath, []byte(s.PublicKey().PEM), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out.KeyPath, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// StartCentral starts `verdict serve` in-process on Redis at redisURL,
// sign-in off.
func StartCentral(t testing.TB, redisURL string) *serve.Server {
	t.Helper()
	cfg := serve.Config{RedisURL: redisURL, Auth: "none", Addr: "127.0.0.1:0"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := serve.Start(context.Background(), &cfg, Log(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// StartEdge runs `verdict edge` in-process on bundle files and returns its
// base URL once it is ready.
func StartEdge(t testing.TB, files []string, pubPath string) string {
	t.Helper()
	srv, err := edgecmd.Start(context.Background(), &edgecmd.Config{
		Addr: "127.0.0.1:0", Bundles: files, VerificationKey: pubPath, Auth: "none",
	}, Log())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	base := "http://" + srv.Addr
	WaitReady(t, base+"/ready", readyGuard(len(files)))
	return base
}

// ImportOrgs writes org documents into Redis (whole-org replace).
func ImportOrgs(t testing.TB, st *store.Store, orgs []orgdoc.Org) {
	t.Helper()
	for i := range orgs {
		if _, err := st.PutOrg(context.Background(), &orgs[i], -1, store.Actor{Subject: "test"}); err != nil {
			t.Fatal(err)
		}
	}
}

// WriteBundles builds one signed bundle per org with the built-in policies
// (the --from path of `verdict bundle build`) into dir and returns the files.
func WriteBundles(t testing.TB, orgs []orgdoc.Org, signer *bundle.Signer, dir string) []string {
	t.Helper()
	mods, err := policies.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for i := range orgs {
		b, err := bundle.Build(context.Background(), bundle.Spec{Org: &orgs[i], Policies: bundle.Policies{Modules: mods}, Signer: signer})
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, orgs[i].Org+".tar.gz")
		if err := os.WriteFile(f, b.Bytes, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

// PostJSON posts body (JSON, or raw JSON bytes) and returns the status and
// the raw answer.
func PostJSON(t testing.TB, url string, body any) (int, []byte) {
	t.Helper()
	code, raw, err := Post(http.DefaultClient, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return code, raw
}

// Post is PostJSON without a test: for goroutines, which may not call
// t.Fatal.
func Post(c *http.Client, url string, body any) (int, []byte, error) {
	var b []byte
	switch x := body.(type) {
	case json.RawMessage:
		b = x
	case []byte:
		b = x
	default:
		var err error
		if b, err = json.Marshal(body); err != nil {
			return 0, nil, err
		}
	}
	resp, err := c.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// Canonical re-encodes JSON with sorted keys, so answers from different
// servers compare byte for byte.
func Canonical(t testing.TB, raw []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("not JSON: %s", raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// DecisionJSON is a decision object in canonical JSON. The one liberty
// taken: the PDPs' JSON leaves out an empty context (decision.Decision's
// omitempty) where OPA writes "context": {}; both mean the same and compare
// equal.
func DecisionJSON(raw []byte) (string, error) {
	var d map[string]any
	if err := json.Unmarshal(raw, &d); err != nil {
		return "", fmt.Errorf("not a decision: %s", raw)
	}
	if _, ok := d["decision"].(bool); !ok {
		return "", fmt.Errorf("not a decision: %s", raw)
	}
	if c, ok := d["context"].(map[string]any); ok && len(c) == 0 {
		delete(d, "context")
	}
	b, _ := json.Marshal(d)
	return string(b), nil
}

// WithExplain returns the request with context.explain set (or as written).
func WithExplain(raw json.RawMessage, explain bool) (json.RawMessage, error) {
	if !explain {
		return raw, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	ctx, _ := m["context"].(map[string]any)
	if ctx == nil {
		ctx = map[string]any{}
		m["context"] = ctx
	}
	ctx["explain"] = true
	return json.Marshal(m)
}

// OrgOf is a request's context.org.
func OrgOf(raw json.RawMessage) string {
	var m struct {
		Context struct {
			Org string `json:"org"`
		} `json:"context"`
	}
	_ = json.Unmarshal(raw, &m)
	return m.Context.Org
}

// WaitReady polls url until it answers 200 (a hang guard, not a measure).
func WaitReady(t testing.TB, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, b)
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not ready within %v: %s", url, timeout, last)
}

// FreeAddr is a loopback address with a free port.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
