package edge_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/verdict-pdp/verdict/internal/assemble"
	"github.com/verdict-pdp/verdict/internal/bundle"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/edge"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/policies"
)

// TestManifestOnEdge: an edge answers /v1/manifest from its bundle exactly as
// the central PDP answers it from the same org (every user of the demo, both
// environments, with reasons), and a bundle of one environment refuses the
// others.
func TestManifestOnEdge(t *testing.T) {
	c := demo(t)
	s := signer(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "demo.tar.gz"), build(t, &c.Orgs[0], s, "1"))
	e := start(t, edge.Config{Bundles: []string{filepath.Join(dir, "demo.tar.gz")}, VerificationKey: s.PublicKey()}, nil)
	waitRevision(t, e.Edge, "demo@1")

	mods, err := policies.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(context.Background(), engine.Config{Modules: mods})
	if err != nil {
		t.Fatal(err)
	}
	central, _ := pdp.New(pdp.Config{}, eng, assemble.NewDocSource(c.Orgs))
	granted := 0
	for _, u := range c.Orgs[0].Users {
		for _, env := range []string{"prod", "uat"} {
			body := map[string]any{"org": "demo", "user": u.ID, "project": "mortgage", "environment": env, "explain": true}
			var got decision.Manifest
			if code := post(t, e.URL+"/v1/manifest", body, &got); code != http.StatusOK {
				t.Fatalf("%v: %d", body, code)
			}
			want, err := central.Manifest(context.Background(), decision.ManifestRequest{Org: "demo", User: u.ID, Project: "mortgage", Environment: env, Explain: true})
			if err != nil {
				t.Fatal(err)
			}
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			if string(g) != string(w) {
				t.Errorf("%s in %s:\n  edge:    %s\n  central: %s", u.ID, env, g, w)
			}
			if got.Access.Decision {
				granted++
			}
		}
	}
	if granted == 0 {
		t.Error("no manifest granted access: the comparison proves little")
	}

	writeFile(t, filepath.Join(dir, "prod.tar.gz"), buildEnv(t, &c.Orgs[0], "prod", s))
	one := start(t, edge.Config{Bundles: []string{filepath.Join(dir, "prod.tar.gz")}, VerificationKey: s.PublicKey()}, nil)
	waitRevision(t, one.Edge, "demo@2")
	var m decision.Manifest
	post(t, one.URL+"/v1/manifest", map[string]any{"org": "demo", "user": "u-tom", "project": "mortgage", "environment": "uat"}, &m)
	if m.Access.Decision || m.Access.Context["reason"] != "environment_not_on_edge" || m.Flows.Others.Decision {
		t.Errorf("uat on a prod edge: %+v", m)
	}
	post(t, one.URL+"/v1/manifest", map[string]any{"org": "demo", "user": "u-tom", "project": "mortgage", "environment": "prod"}, &m)
	if !m.Access.Decision || m.Build != "m1" || m.UIFlows["review"].Components["approve"].Context["state"] != "hidden" {
		t.Errorf("prod on a prod edge: %+v", m)
	}
}

// buildEnv is build with one environment only.
func buildEnv(t testing.TB, o *orgdoc.Org, env string, s *bundle.Signer) []byte {
	t.Helper()
	mods, err := policies.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Build(context.Background(), bundle.Spec{Org: o, Env: env, Revision: "2", Policies: bundle.Policies{Modules: mods}, Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes
}
