package test

import (
	"net/http"
	"testing"

	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/testutil/oidctest"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// TestManifestOverHTTP: POST /v1/manifest on the central PDP (real Redis, a
// real issuer): the caller's sign-in and org are checked as for decisions,
// a missing field is a 400 naming it, a subject token stands in for the
// record, and the answer is the demo's manifest.
func TestManifestOverHTTP(t *testing.T) {
	rs := redistest.Start(t)
	issuer := oidctest.Start(t)
	importCorpus(t, rs.URL(), loadCorpus(t, "../data/demo.json"))
	pdp := startPDP(t, serve.Config{RedisURL: rs.URL(), OIDCIssuer: issuer.URL(), OIDCAudience: oidctest.DefaultAudience})
	url := "http://" + pdp.Addr + "/v1/manifest"
	caller := issuer.Token(t, map[string]any{"sub": "svc-portal", "org": "demo"})
	body := func(user, env string) map[string]any {
		return map[string]any{"user": user, "project": "mortgage", "environment": env}
	}
	if code := post(t, url, "", body("u-tom", "prod"), nil); code != http.StatusUnauthorized {
		t.Errorf("no caller token: %d, want 401", code)
	}
	other := issuer.Token(t, map[string]any{"sub": "svc-x", "org": "acme"})
	if code := post(t, url, other, map[string]any{"org": "demo", "user": "u-tom", "project": "mortgage", "environment": "prod"}, nil); code != http.StatusForbidden {
		t.Errorf("caller of another org: %d, want 403", code)
	}
	var e struct{ Error struct{ Field string } }
	if code := post(t, url, caller, map[string]any{"user": "u-tom", "project": "mortgage"}, &e); code != http.StatusBadRequest || e.Error.Field != "environment" {
		t.Errorf("no environment: %d %+v", code, e)
	}
	if code := post(t, url, caller, map[string]any{"user": "u-tom", "project": "mortgage", "environment": "prod", "extra": 1}, &e); code != http.StatusBadRequest {
		t.Errorf("unknown field: %d %+v", code, e)
	}

	var m decision.Manifest
	if code := post(t, url, caller, body("u-tom", "prod"), &m); code != http.StatusOK {
		t.Fatalf("tom: %d", code)
	}
	review := m.UIFlows["review"]
	if m.Build != "m1" || m.Rule != "default" || !review.Launch.Decision ||
		review.Components["approve"].Context["state"] != "hidden" || review.Components["comment"].Context["state"] != "disabled" ||
		m.UIFlows["apply"].Launch.Decision != true || m.Processes["application"].Swimlanes["decision"]["execute"].Decision ||
		!m.Processes["application"].Swimlanes["decision"]["view"].Decision || m.Flows.Listed["credit_check"].Decision || !m.Flows.Others.Decision {
		t.Errorf("tom in prod: %+v", m)
	}
	m = decision.Manifest{}
	if code := post(t, url, caller, body("u-maria", "prod"), &m); code != http.StatusOK || m.Build != "m2" || m.Rule != "group_override" ||
		!m.UIFlows["calculator"].Launch.Decision || m.UIFlows["review"].Launch.Decision || len(m.Processes) != 0 {
		t.Errorf("maria in prod: %d %+v", code, m)
	}
	// ada's record makes her a designer (bypass, everything enabled); her
	// own token says she is not one: no bypass, no runtime role, no access.
	m = decision.Manifest{}
	if code := post(t, url, caller, body("u-ada", "prod"), &m); code != http.StatusOK || !m.Access.Decision ||
		m.UIFlows["review"].Components["approve"].Context["state"] != "enabled" {
		t.Errorf("ada by record: %d %+v", code, m)
	}
	adaTok := issuer.Token(t, map[string]any{"sub": "u-ada", "org": "demo", "designerUser": "false"})
	m = decision.Manifest{}
	if code := post(t, url, caller, map[string]any{"token": adaTok, "project": "mortgage", "environment": "prod", "explain": true}, &m); code != http.StatusOK ||
		m.Access.Decision || m.User != "u-ada" || len(m.UIFlows) != 0 || m.Access.Context["reasons"] == nil {
		t.Errorf("ada by token: %d %+v", code, m)
	}
	forged := issuer.TokenWithKey(t, oidctest.NewKey(t), map[string]any{"sub": "u-ada", "designerUser": true})
	if code := post(t, url, caller, map[string]any{"token": forged, "project": "mortgage", "environment": "prod"}, nil); code != http.StatusUnauthorized {
		t.Errorf("forged subject token: %d, want 401", code)
	}
}
