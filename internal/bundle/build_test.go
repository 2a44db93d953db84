package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/verdict-pdp/verdict/internal/verr"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/policies"
)

func ecSigner(t testing.TB) *Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalECPrivateKey(k)
	s, err := NewSigner(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func rsaSigner(t testing.TB) *Signer {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
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

func builtin(t testing.TB) Policies {
	t.Helper()
	mods, err := policies.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return Policies{Modules: mods}
}

// TestRewriteScopesEveryReference: after the rewrite no module declares or
// reads anything under data.verdict but its own org's root, and the facts
// stay where the policies index them by org.
func TestRewriteScopesEveryReference(t *testing.T) {
	for _, org := range []string{"acme", "my-org", "9lives", "in", "default"} {
		mods, err := RewriteModules(org, builtin(t).Modules)
		if err != nil {
			t.Fatalf("%s: %v", org, err)
		}
		root := prefix(org)
		for _, m := range mods {
			src := strings.ReplaceAll(string(m.Raw), "data.verdict.orgs", "")
			if strings.Contains(src, "data.verdict.") || strings.Contains(src, "data.verdict[") {
				t.Errorf("%s: %s: a reference to data.verdict was left as written", org, m.Path)
			}
			if !m.Parsed.Package.Path.HasPrefix(root) {
				t.Errorf("%s: %s: package %v outside %v", org, m.Path, m.Parsed.Package.Path, root)
			}
			ast.WalkRefs(m.Parsed, func(r ast.Ref) bool {
				if !r[0].Equal(ast.DefaultRootDocument) || len(r) < 2 {
					return false
				}
				first := r[1].Value.(ast.String)
				if first == "verdict_data" {
					return false
				}
				if !r.HasPrefix(root) {
					t.Errorf("%s: %s: reference %v escapes %v", org, m.Path, r, root)
				}
				return false
			})
		}
	}
}

func TestRewriteRefusesDynamicDataRefs(t *testing.T) {
	_, err := RewriteModules("acme", map[string]string{"x.rego": "package x\n\nall := data\n"})
	if err == nil {
		t.Fatal("a module reading the whole of data was accepted")
	}
	_, err = RewriteModules("acme", map[string]string{"x.rego": "package x\n\nv(k) := data[k]\n"})
	if err == nil || !strings.Contains(err.Error(), "constant") {
		t.Fatalf("a dynamic root was accepted: %v", err)
	}
}

func TestDataPath(t *testing.T) {
	for in, want := range map[string]string{
		"verdict/main/decision": "verdict/orgs/acme/main/decision",
		"/verdict/":             "verdict/orgs/acme",
		"helpers/x":             "verdict/orgs/acme/extpkg/helpers/x",
	} {
		if got, ok := DataPath("acme", in); !ok || got != want {
			t.Errorf("DataPath(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "verdict_data/orgs/acme", "/"} {
		if _, ok := DataPath("acme", in); ok {
			t.Errorf("DataPath(%q) accepted", in)
		}
	}
}

// TestBuildSignedReadBack: RS256 and ES256 bundles verify with their public
// key, carry the roots and metadata, and are refused by any other key.
func TestBuildSignedReadBack(t *testing.T) {
	c := demo(t)
	ctx := context.Background()
	other := ecSigner(t).PublicKey()
	for _, s := range []*Signer{rsaSigner(t), ecSigner(t)} {
		b, err := Build(ctx, Spec{Org: &c.Orgs[0], Revision: "7", Policies: builtin(t), Signer: s})
		if err != nil {
			t.Fatal(err)
		}
		pub := s.PublicKey()
		got, err := Read(b.Bytes, &pub)
		if err != nil {
			t.Fatalf("%s: %v", s.Alg(), err)
		}
		if got.Manifest.Revision != "7" || strings.Join(*got.Manifest.Roots, ",") != "verdict/orgs/demo,verdict_data/orgs/demo" {
			t.Errorf("%s: manifest %+v", s.Alg(), got.Manifest)
		}
		if m, ok := MetaOf(got.Manifest.Metadata); !ok || m.Org != "demo" || m.Environment != "all" {
			t.Errorf("%s: metadata %v", s.Alg(), got.Manifest.Metadata)
		}
		if _, err := Read(b.Bytes, &other); err == nil {
			t.Errorf("%s: a bundle verified with a foreign key", s.Alg())
		}
	}
}

// TestTamperedAndUnsignedRefused: changing one byte of data.json, or leaving
// the signature out, makes the bundle unreadable for an edge.
func TestTamperedAndUnsignedRefused(t *testing.T) {
	c := demo(t)
	s := ecSigner(t)
	pub := s.PublicKey()
	b, err := Build(context.Background(), Spec{Org: &c.Orgs[0], Policies: builtin(t), Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	tampered := rewriteTar(t, b.Bytes, "/data.json", func(body []byte) []byte {
		return bytes.Replace(body, []byte(`"active"`), []byte(`"ACTIVE"`), 1)
	})
	if _, err := Read(tampered, &pub); err == nil {
		t.Error("a tampered bundle verified")
	}
	unsigned, err := Build(context.Background(), Spec{Org: &c.Orgs[0], Policies: builtin(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Read(unsigned.Bytes, &pub); err == nil {
		t.Error("an unsigned bundle verified")
	}
	if _, err := Read([]byte("not a bundle"), &pub); err == nil {
		t.Error("garbage read as a bundle")
	}
}

// rewriteTar returns archive with one file's body changed by f.
func rewriteTar(t testing.TB, archive []byte, name string, f func([]byte) []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if h.Name == name {
			body, found = f(body), true
		}
		h.Size = int64(len(body))
		_ = tw.WriteHeader(h)
		_, _ = tw.Write(body)
	}
	_ = tw.Close()
	_ = zw.Close()
	if !found {
		t.Fatalf("no %s in the archive", name)
	}
	return out.Bytes()
}

// TestEnvironmentBundle keeps one environment and every design-time fact.
func TestEnvironmentBundle(t *testing.T) {
	c := demo(t)
	o := &c.Orgs[0]
	b, err := Build(context.Background(), Spec{Org: o, Env: "prod", Policies: builtin(t)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Read(b.Bytes, nil)
	if err != nil {
		t.Fatal(err)
	}
	doc := got.Data["verdict_data"].(map[string]any)["orgs"].(map[string]any)["demo"].(map[string]any)
	for id, p := range doc["projects"].(map[string]any) {
		for env := range p.(map[string]any)["environments"].(map[string]any) {
			if env != "prod" {
				t.Errorf("project %s keeps environment %s", id, env)
			}
		}
	}
	if len(doc["designer_roles"].(map[string]any)["users"].(map[string]any)) == 0 {
		t.Error("design-time facts dropped")
	}
	if _, err := Build(context.Background(), Spec{Org: o, Env: "nope", Policies: builtin(t)}); verr.CodeOf(err) != verr.NotFound {
		t.Errorf("an unknown environment: %v, want not_found", err)
	}
	// An org that lists no environments has those its projects have, and
	// only those: the bundles a caller can make the server keep are bounded
	// by the org's data, not by the names it sends (docs/limits.md).
	o.Environments = nil
	if _, err := Build(context.Background(), Spec{Org: o, Env: "prod", Policies: builtin(t)}); err != nil {
		t.Errorf("a project's environment of an org listing none: %v", err)
	}
	if _, err := Build(context.Background(), Spec{Org: o, Env: "made-up-1", Policies: builtin(t)}); verr.CodeOf(err) != verr.NotFound {
		t.Errorf("a made-up environment of an org listing none: %v, want not_found", err)
	}
}

// TestBundleDecidesTheCorpus loads the bundle into a bare OPA (no Verdict
// code on the path) and replays the demo corpus at the org's query path.
func TestBundleDecidesTheCorpus(t *testing.T) {
	c := demo(t)
	ctx := context.Background()
	b, err := Build(ctx, Spec{Org: &c.Orgs[0], Policies: builtin(t)})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := Read(b.Bytes, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := rego.New(rego.ParsedBundle("demo", ob), rego.Query("data.verdict.orgs.demo.main.decision")).PrepareForEval(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range c.Evaluations {
		var in map[string]any
		_ = json.Unmarshal(ev.Request, &in)
		rs, err := q.Eval(ctx, rego.EvalInput(in))
		if err != nil || len(rs) == 0 {
			t.Fatalf("%s: %v %v", ev.Name, rs, err)
		}
		d := rs[0].Expressions[0].Value.(map[string]any)
		if d["decision"] != ev.Expected.Decision {
			t.Errorf("%s: decision %v, want %v (%v)", ev.Name, d["decision"], ev.Expected.Decision, d["context"])
		}
	}
}

// TestExtensionsMoveWithTheOrg: an extension's helper package outside
// verdict.* and its data.json move under the org's extpkg, and the
// extension's decision (verdict.ext.<type>) still finds them.
func TestExtensionsMoveWithTheOrg(t *testing.T) {
	c := demo(t)
	ctx := context.Background()
	p := builtin(t)
	p.Modules["ext/widget.rego"] = "package verdict.ext.widget\n\nimport data.helpers\n\ndecision if helpers.open[input.resource.id]\n"
	p.Modules["ext/helpers.rego"] = "package helpers\n\nopen contains id if some id in data.helpers.ids\n"
	p.Data = map[string]any{"helpers": map[string]any{"ids": []any{"w1"}}}
	b, err := Build(ctx, Spec{Org: &c.Orgs[0], Policies: p})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := Read(b.Bytes, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := rego.New(rego.ParsedBundle("demo", ob), rego.Query("data.verdict.orgs.demo.main.decision.decision")).PrepareForEval(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"w1": true, "w2": false} {
		in := map[string]any{"subject": map[string]any{"type": "service", "id": "s"}, "action": map[string]any{"name": "use"},
			"resource": map[string]any{"type": "widget", "id": id}, "context": map[string]any{"org": "demo"}}
		rs, err := q.Eval(ctx, rego.EvalInput(in))
		if err != nil || len(rs) == 0 || rs[0].Expressions[0].Value != want {
			t.Errorf("widget %s: %v %v, want %v", id, rs, err, want)
		}
	}
	if _, ok := ob.Data["helpers"]; ok {
		t.Error("extension data left at the top of data: it would collide between orgs")
	}
}
