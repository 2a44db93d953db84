package pdptest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// ModuleRoot is the directory of this module's go.mod, seen from the test's
// working directory.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the module")
	}
	return filepath.Dir(mod), nil
}

// opaVersion is the version of OPA this module pins (go.mod, replacements
// included).
func opaVersion(root string) (string, error) {
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

// StockOPA returns the `opa` binary of the pinned version, built once per
// machine: `go build github.com/open-policy-agent/opa` in this module (its
// go.sum covers OPA's main package, so nothing outside the module proxy is
// needed), cached under the temp dir keyed by version.
func StockOPA(t testing.TB) string {
	t.Helper()
	opaBin.once.Do(func() {
		root, err := ModuleRoot()
		if err != nil {
			opaBin.err = err
			return
		}
		version, err := opaVersion(root)
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

// RunOPA starts `opa run --server` on bundles, verifying their signatures
// with the public key, and returns its base URL once every bundle is active.
func RunOPA(t testing.TB, pubPath string, bundles []string) string {
	t.Helper()
	base, wait := StartOPA(t, pubPath, bundles)
	wait()
	return base
}

// StartOPA starts `opa run --server` like RunOPA and returns at once: its
// base URL and a function that waits until every bundle is active (call it
// from the test's goroutine). Stock OPA compiles each org's policies: with
// many bundles that takes a while, better spent starting other servers.
func StartOPA(t testing.TB, pubPath string, bundles []string) (string, func()) {
	t.Helper()
	addr := FreeAddr(t)
	args := []string{"run", "--server", "--addr", addr, "--log-level", "error",
		"--verification-key", pubPath, "--signing-alg", "RS256"}
	for _, b := range bundles {
		args = append(args, "--bundle", b)
	}
	cmd := exec.Command(StockOPA(t), args...)
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
	// A hang guard: each bundle's policies are compiled before it is active.
	return base, func() { WaitReady(t, base+"/health?bundles=true", readyGuard(len(bundles))) }
}

// readyGuard is how long a server loading n bundles may take to be ready
// before a test gives up on it: a hang guard, never a measure.
func readyGuard(n int) time.Duration { return 2*time.Minute + time.Duration(n)*10*time.Second }

// Trio is the three evaluators that must agree: base URLs of a central
// PDP, an edge PDP and stock OPA. Stock OPA holds only the orgs it was
// given bundles of.
type Trio struct {
	Central, Edge, OPA string
	// OPAOrgs are the orgs stock OPA holds.
	OPAOrgs map[string]bool
	Client  *http.Client
}

// Answers of the three evaluators to one request, as canonical decision
// JSON; OPA is "" when stock OPA holds no bundle of the request's org.
type Answers struct{ Central, Edge, OPA string }

// Same reports whether the answers agree.
func (a Answers) Same() bool { return a.Central == a.Edge && (a.OPA == "" || a.OPA == a.Central) }

// Ask asks one AuthZEN evaluation request of the three evaluators (stock
// OPA at data.verdict.orgs.<org>.main.decision). Safe for concurrent use.
func (tr Trio) Ask(req json.RawMessage) (Answers, error) {
	c := tr.Client
	if c == nil {
		c = http.DefaultClient
	}
	var out Answers
	ask := func(url string, body any) (string, error) {
		code, raw, err := Post(c, url, body)
		if err != nil {
			return "", err
		}
		if code != http.StatusOK {
			return "", fmt.Errorf("%s: %d %s", url, code, raw)
		}
		return DecisionJSON(raw)
	}
	var err error
	if out.Central, err = ask(tr.Central+"/access/v1/evaluation", req); err != nil {
		return out, err
	}
	if out.Edge, err = ask(tr.Edge+"/access/v1/evaluation", req); err != nil {
		return out, err
	}
	org := OrgOf(req)
	if !tr.OPAOrgs[org] {
		return out, nil // stock OPA has no path for an org it does not hold
	}
	code, raw, err := Post(c, tr.OPA+"/v1/data/verdict/orgs/"+url.PathEscape(org)+"/main/decision", map[string]any{"input": json.RawMessage(req)})
	if err != nil {
		return out, err
	}
	var wrapped struct{ Result json.RawMessage }
	_ = json.Unmarshal(raw, &wrapped)
	if code != http.StatusOK || wrapped.Result == nil {
		return out, fmt.Errorf("stock OPA: %d %s", code, raw)
	}
	out.OPA, err = DecisionJSON(wrapped.Result)
	return out, err
}

// FilterAnswers are the three evaluators' answers to a business filter
// request. Central and Edge are the PDPs' whole answers in canonical JSON
// (the condition and its SQL, or the error of an unknown filter); OPA is
// stock OPA's condition as data (data.verdict.orgs.<org>.filters.result),
// "" when it is undefined (an unknown filter) or OPA does not hold the org.
type FilterAnswers struct {
	Central, Edge, OPA string
	opaHeld            bool
}

// Diff says how the answers differ ("" when they agree): the edge must
// answer as the central PDP; stock OPA must answer the central PDP's
// condition without its SQL (the PDPs' own translation), and nothing for an
// unknown filter.
func (a FilterAnswers) Diff() string {
	if a.Edge != a.Central {
		return fmt.Sprintf("edge differs\n  central: %s\n  edge:    %s", a.Central, a.Edge)
	}
	if !a.opaHeld {
		return ""
	}
	var full map[string]any
	_ = json.Unmarshal([]byte(a.Central), &full)
	want := ""
	if full["error"] == nil {
		delete(full, "sql")
		b, _ := json.Marshal(full)
		want = string(b)
	}
	if a.OPA != want {
		return fmt.Sprintf("stock OPA differs\n  central (without sql): %s\n  stock OPA: %s", want, a.OPA)
	}
	return ""
}

// AskFilter asks a business filter of the three evaluators. Safe for
// concurrent use.
func (tr Trio) AskFilter(org, user, filter string) (FilterAnswers, error) {
	c := tr.Client
	if c == nil {
		c = http.DefaultClient
	}
	var out FilterAnswers
	canon := func(raw []byte) (string, error) {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", fmt.Errorf("not JSON: %s", raw)
		}
		b, _ := json.Marshal(v)
		return string(b), nil
	}
	body := map[string]any{"org": org, "user": user}
	for _, p := range []struct {
		base string
		dst  *string
	}{{tr.Central, &out.Central}, {tr.Edge, &out.Edge}} {
		_, raw, err := Post(c, p.base+"/v1/filters/"+url.PathEscape(filter), body)
		if err != nil {
			return out, err
		}
		if *p.dst, err = canon(raw); err != nil {
			return out, err
		}
	}
	if !tr.OPAOrgs[org] {
		return out, nil
	}
	out.opaHeld = true
	input := map[string]any{
		"subject":  map[string]any{"type": "user", "id": user},
		"action":   map[string]any{"name": "filter"},
		"resource": map[string]any{"type": "business_filter", "id": filter},
		"context":  map[string]any{"org": org},
	}
	_, raw, err := Post(c, tr.OPA+"/v1/data/verdict/orgs/"+url.PathEscape(org)+"/filters/result", map[string]any{"input": input})
	if err != nil {
		return out, err
	}
	var wrapped struct{ Result json.RawMessage }
	if err := json.Unmarshal(raw, &wrapped); err != nil {
		return out, fmt.Errorf("stock OPA: %s", raw)
	}
	if wrapped.Result != nil {
		out.OPA, err = canon(wrapped.Result)
	}
	return out, err
}
