// Package edge holds the end-to-end checks of edge PDPs: the differential
// test (central PDP on Redis, edge PDP on bundles and stock OPA on the same
// bundles give identical answers), the central PDP feeding an edge by long
// polling, and the container test (a FROM scratch image, a network cut, a
// restart from the persisted bundle).
package edge

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
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/bundle"
	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
)

// root is the module root, seen from this package.
const root = "../.."

// corpora are the shared conformance corpora (beside the repository; absent
// in a user's clone), the demo data and the project's own corpora.
func corpora(t testing.TB) []string {
	t.Helper()
	shared, _ := filepath.Glob(filepath.Join(root, "..", "shared", "conformance", "*.json"))
	if len(shared) == 0 {
		t.Logf("skipping shared corpora: %s is absent (a user's clone)", filepath.Join(root, "..", "shared", "conformance"))
	}
	own, _ := filepath.Glob(filepath.Join(root, "test", "corpus", "*.json"))
	return append(append(shared, filepath.Join(root, "data", "demo.json")), own...)
}

func loadCorpus(t testing.TB, path string) *orgdoc.Corpus {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := orgdoc.DecodeCorpus(raw)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

func testLog() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.DiscardHandler)
}

// keys is a signing key for the test and its public key in a file.
type keys struct {
	signer  *bundle.Signer
	pubPath string
	keyPath string
}

func newKeys(t testing.TB) keys {
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
	out := keys{signer: s, pubPath: filepath.Join(dir, "pub.pem"), keyPath: filepath.Join(dir, "key.pem")}
	if err := os.WriteFile(out.pubPath, []byte(s.PublicKey().PEM), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out.keyPath, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// startCentral starts `verdict serve` in-process on Redis at redisURL.
func startCentral(t testing.TB, redisURL string) *serve.Server {
	t.Helper()
	cfg := serve.Config{RedisURL: redisURL, Auth: "none", Addr: "127.0.0.1:0"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := serve.Start(context.Background(), &cfg, testLog(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func importOrgs(t testing.TB, st *store.Store, orgs []orgdoc.Org) {
	t.Helper()
	for i := range orgs {
		if _, err := st.PutOrg(context.Background(), &orgs[i], -1, store.Actor{Subject: "edge test"}); err != nil {
			t.Fatal(err)
		}
	}
}

// postJSON posts body and returns the status and the raw answer.
func postJSON(t testing.TB, url string, body any) (int, []byte) {
	t.Helper()
	var b []byte
	switch x := body.(type) {
	case json.RawMessage:
		b = x
	default:
		b, _ = json.Marshal(body)
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// canonical re-encodes JSON with sorted keys, so answers from different
// servers compare byte for byte.
func canonical(t testing.TB, raw []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("not JSON: %s", raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// waitReady polls url until it answers 200.
func waitReady(t testing.TB, url string, timeout time.Duration) {
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

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// opaVersion is the version of OPA this module pins (go.mod, replacements
// included).
func opaVersion() (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}", "github.com/open-policy-agent/opa")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list -m github.com/open-policy-agent/opa: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

var opaBin struct {
	once sync.Once
	path string
	err  error
}

// stockOPA returns the `opa` binary of the pinned version, built once per
// machine: `go build github.com/open-policy-agent/opa` in this module (its
// go.sum covers OPA's main package, so nothing outside the module proxy is
// needed), cached under the temp dir keyed by version.
func stockOPA(t testing.TB) string {
	t.Helper()
	opaBin.once.Do(func() {
		version, err := opaVersion()
		if err != nil {
			opaBin.err = err
			return
		}
		dir := filepath.Join(os.TempDir(), "verdict-test-opa-"+version)
		bin := filepath.Join(dir, "opa")
		if _, err := os.Stat(bin); err == nil {
			opaBin.path = bin
			return
		}
		if opaBin.err = os.MkdirAll(dir, 0o755); opaBin.err != nil {
			return
		}
		tmp := fmt.Sprintf("%s.%d", bin, os.Getpid())
		start := time.Now()
		cmd := exec.Command("go", "build", "-o", tmp, "github.com/open-policy-agent/opa")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			opaBin.err = fmt.Errorf("go build github.com/open-policy-agent/opa: %v\n%s", err, out)
			return
		}
		// Parallel test binaries may race here: the rename is atomic.
		if opaBin.err = os.Rename(tmp, bin); opaBin.err == nil {
			opaBin.path = bin
			t.Logf("built stock OPA %s in %v: %s", version, time.Since(start).Round(time.Second), bin)
		}
	})
	if opaBin.err != nil {
		t.Fatal(opaBin.err)
	}
	return opaBin.path
}

// runOPA starts `opa run --server` on bundles, verifying their signatures
// with the public key, and returns its base URL once every bundle is active.
func runOPA(t testing.TB, pubPath string, bundles []string) string {
	t.Helper()
	addr := freeAddr(t)
	args := []string{"run", "--server", "--addr", addr, "--log-level", "error",
		"--verification-key", pubPath, "--signing-alg", "RS256"}
	for _, b := range bundles {
		args = append(args, "--bundle", b)
	}
	cmd := exec.Command(stockOPA(t), args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("opa stderr:\n%s", stderr.String())
		}
	})
	base := "http://" + addr
	waitReady(t, base+"/health?bundles=true", hangGuard)
	return base
}
