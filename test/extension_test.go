package test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

const extOrg = `{"org": "acme", "users": [
  {"id": "u-bob", "username": "bob", "status": "active", "attributes": {"department": ["sales"]}},
  {"id": "u-ivan", "username": "ivan", "status": "active"},
  {"id": "u-frank", "username": "frank", "status": "disabled", "attributes": {"department": ["ops"]}}],
 "roles": [{"name": "User"}],
 "groups": [{"name": "Back office", "members": ["u-ivan"], "attributes": {"department": ["ops"]}}]}`

// TestExtensionPolicies: verdict serve --policy-dir decides a resource type
// of the extension's own over HTTP, search lists its candidates, rule 1
// still holds, and a broken extension is refused at start and on reload.
func TestExtensionPolicies(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) { testExtensionPolicies(t, scheme) })
	}
}

func testExtensionPolicies(t *testing.T, scheme string) {
	rs := redistest.Start(t)
	o, err := orgdoc.DecodeOrg([]byte(extOrg))
	if err != nil {
		t.Fatal(err)
	}
	importCorpus(t, rs.URL(), &orgdoc.Corpus{Orgs: []orgdoc.Org{*o}})
	dir := t.TempDir()
	copyDir(t, "../examples/extensions", dir)
	pdp := startPDP(t, withScheme(t, scheme, serve.Config{RedisURL: rs.URL(), Auth: "none", DefaultOrg: "acme", PolicyDirs: []string{dir}}))
	base := scheme + "://" + pdp.Addr
	ask := func(user, action, doc string) answer {
		var d answer
		post(t, base+"/access/v1/evaluation", "", map[string]any{
			"subject": map[string]any{"type": "user", "id": user}, "action": map[string]any{"name": action},
			"resource": map[string]any{"type": "document", "id": doc},
		}, &d)
		return d
	}
	if d := ask("u-ivan", "read", "handbook"); !d.Decision || d.Context["department"] != "ops" {
		t.Errorf("ivan reads handbook through his group: %+v", d)
	}
	if d := ask("u-bob", "read", "handbook"); d.Decision {
		t.Errorf("bob (sales) reads handbook: %+v", d)
	}
	if d := ask("u-frank", "read", "handbook"); d.Decision || d.Context["reason"] != "subject_not_active" {
		t.Errorf("disabled frank: %+v", d)
	}
	var r struct{ Results []map[string]string }
	post(t, base+"/access/v1/search/resource", "", map[string]any{
		"subject": map[string]any{"type": "user", "id": "u-bob"}, "action": map[string]any{"name": "edit"},
		"resource": map[string]any{"type": "document"},
	}, &r)
	if len(r.Results) != 1 || r.Results[0]["id"] != "handbook" {
		t.Errorf("bob may edit: %+v", r)
	}

	// A reload with a broken extension is refused; the running set stays.
	broken := filepath.Join(dir, "document", "broken.rego")
	if err := os.WriteFile(broken, []byte("package verdict.ext.document\n\nnot valid rego {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := pdp.Reload(context.Background()); err == nil || !strings.Contains(err.Error(), "broken.rego:") {
		t.Errorf("reload of a broken extension: %v (want its file and line)", err)
	}
	if d := ask("u-ivan", "read", "handbook"); !d.Decision {
		t.Errorf("after a refused reload: %+v", d)
	}
	// At start it is refused too.
	cfg := serve.Config{RedisURL: rs.URL(), Auth: "none", PolicyDirs: []string{dir}, Addr: "127.0.0.1:0"}
	if _, err := serve.Start(context.Background(), &cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard); err == nil ||
		!strings.Contains(err.Error(), "broken.rego:") {
		t.Errorf("start with a broken extension: %v", err)
	}
	// An extension may not add rules to a built-in package.
	_ = os.Remove(broken)
	if err := os.WriteFile(filepath.Join(dir, "evil.rego"), []byte("package verdict.main\n\nx := 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := pdp.Reload(context.Background()); err == nil || !strings.Contains(err.Error(), "evil.rego:1") {
		t.Errorf("an extension in verdict.main: %v", err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
