package test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/oidctest"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// call is one HTTP request of the matrix; token "" sends none.
func call(t *testing.T, method, url, token string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// twoOrgs imports the demo org as "demo" and a copy of it as "rival" in
// which tom is disabled: the same user ids, different answers, so an answer
// read from the wrong org shows.
func twoOrgs(t *testing.T, redisURL string) *store.Store {
	t.Helper()
	demo := loadCorpus(t, "../data/demo.json").Orgs[0]
	rival := loadCorpus(t, "../data/demo.json").Orgs[0]
	rival.Org = "rival"
	for i := range rival.Users {
		if rival.Users[i].ID == "u-tom" {
			rival.Users[i].Status = "disabled"
		}
	}
	importCorpus(t, redisURL, &orgdoc.Corpus{Orgs: []orgdoc.Org{demo, rival}})
	st, err := store.Open(store.Config{URL: redisURL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestTenancyMatrix: two orgs, every endpoint, every kind of caller, over
// real HTTP with a real OIDC issuer and a real Redis: only a token of org
// A reads or changes A; a token of B, a token without an org claim, a
// subject token of B inside a request of A and no token at all get nothing
// of A and change nothing; a subject token that does not verify is a 401
// on every endpoint that takes one (subject search included).
func TestTenancyMatrix(t *testing.T) {
	rs := redistest.Start(t)
	st := twoOrgs(t, rs.URL())
	issuer := oidctest.Start(t)
	pdp := startPDP(t, serve.Config{RedisURL: rs.URL(), OIDCIssuer: issuer.URL(), OIDCAudience: oidctest.DefaultAudience})
	base := "http://" + pdp.Addr
	// ada is org_admin of both orgs (the admin API is authorized by the
	// engine): what tells her tokens apart is the org claim only.
	tokA := issuer.Token(t, map[string]any{"sub": "u-ada", "org": "demo"})
	tokB := issuer.Token(t, map[string]any{"sub": "u-ada", "org": "rival"})
	tokNoOrg := issuer.Token(t, map[string]any{"sub": "u-ada"})
	subjectOfB := issuer.Token(t, map[string]any{"sub": "u-tom", "org": "rival"})
	forgedSubject := issuer.TokenWithKey(t, oidctest.NewKey(t), map[string]any{"sub": "u-tom", "org": "demo"})

	tom := func(token string) map[string]any {
		s := map[string]any{"type": "user", "id": "u-tom"}
		if token != "" {
			s["properties"] = map[string]any{"token": token}
		}
		return s
	}
	access := func(sub map[string]any) map[string]any {
		return map[string]any{"subject": sub, "action": map[string]any{"name": "access"},
			"resource": map[string]any{"type": "solution", "id": "mortgage"}, "context": map[string]any{"org": "demo", "environment": "prod"}}
	}
	type endpoint struct {
		name, method, path string
		body               func(subjectToken string) any // nil: no body
		ok                 int                           // status for a token of A
		subjectToken       bool                          // the body can carry a subject token
	}
	endpoints := []endpoint{
		{"evaluation", "POST", "/access/v1/evaluation", func(st string) any { return access(tom(st)) }, 200, true},
		{"evaluations", "POST", "/access/v1/evaluations", func(st string) any {
			b := access(tom(st))
			b["evaluations"] = []any{map[string]any{}, map[string]any{"resource": map[string]any{"id": "mortgage"}}}
			return b
		}, 200, true},
		{"subject search", "POST", "/access/v1/search/subject", func(st string) any {
			b := access(map[string]any{"type": "user"})
			if st != "" {
				b["subject"] = map[string]any{"type": "user", "properties": map[string]any{"token": st}}
			}
			return b
		}, 200, true},
		{"resource search", "POST", "/access/v1/search/resource", func(st string) any {
			b := access(tom(st))
			b["resource"] = map[string]any{"type": "ui_flow", "properties": map[string]any{"project": "mortgage"}}
			b["action"] = map[string]any{"name": "launch"}
			return b
		}, 200, true},
		{"action search", "POST", "/access/v1/search/action", func(st string) any {
			b := access(tom(st))
			delete(b, "action")
			return b
		}, 200, true},
		{"data API decision", "POST", "/v1/data/verdict/main/decision", func(st string) any {
			return map[string]any{"input": access(tom(st))}
		}, 200, true},
		{"data API document", "POST", "/v1/data/verdict/search/actions", func(st string) any {
			return map[string]any{"input": access(tom(st))}
		}, 200, true},
		{"filter", "POST", "/v1/filters/applications_by_branch", func(st string) any {
			if st != "" {
				return map[string]any{"org": "demo", "token": st}
			}
			return map[string]any{"org": "demo", "user": "u-tom"}
		}, 200, true},
		{"admin read", "GET", "/admin/v1/orgs/demo/users", nil, 200, false},
		{"admin org read", "GET", "/admin/v1/orgs/demo", nil, 200, false},
		{"admin write", "POST", "/admin/v1/orgs/demo/roles", func(string) any {
			return map[string]any{"name": "Auditor"}
		}, 201, false},
		{"bundle", "GET", "/bundles/demo/all.tar.gz", nil, 200, false},
	}
	revs := func() (int64, int64) {
		a, err := st.Revision(context.Background(), "demo")
		if err != nil {
			t.Fatal(err)
		}
		b, err := st.Revision(context.Background(), "rival")
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
	demo0, rival0 := revs()
	callers := []struct {
		name, token, subject string
		want                 func(e endpoint) int
	}{
		// The refused kinds first, so the one write of A comes last.
		{"no token", "", "", func(endpoint) int { return 401 }},
		{"token of B", tokB, "", func(endpoint) int { return 403 }},
		{"token without org", tokNoOrg, "", func(endpoint) int { return 403 }},
		{"subject token of B in a request of A", tokA, subjectOfB, func(e endpoint) int {
			if !e.subjectToken {
				return 0 // not applicable
			}
			return 403
		}},
		{"forged subject token in a request of A", tokA, forgedSubject, func(e endpoint) int {
			if !e.subjectToken {
				return 0
			}
			return 401
		}},
		{"token of A", tokA, "", func(e endpoint) int { return e.ok }},
	}
	for _, c := range callers {
		for _, e := range endpoints {
			want := c.want(e)
			if want == 0 {
				continue
			}
			t.Run(c.name+"/"+e.name, func(t *testing.T) {
				var body any
				if e.body != nil {
					body = e.body(c.subject)
				}
				code, raw := call(t, e.method, base+e.path, c.token, body)
				if code != want {
					t.Fatalf("%s %s: %d, want %d: %.300s", e.method, e.path, code, want, raw)
				}
				if code >= 400 && strings.Contains(string(raw), "u-") {
					t.Errorf("a refusal names org data: %.300s", raw)
				}
			})
		}
	}
	demo1, rival1 := revs()
	if rival1 != rival0 {
		t.Errorf("org rival changed: revision %d -> %d", rival0, rival1)
	}
	if demo1 != demo0+1 {
		t.Errorf("org demo: revision %d -> %d, want exactly the one write of its own caller", demo0, demo1)
	}
	// Each caller's answers come from its own org: tom is active in demo,
	// disabled in rival; a request without context.org is about the
	// caller's own org.
	for _, c := range []struct {
		token, org string
		allow      bool
	}{{tokA, "demo", true}, {tokB, "rival", false}} {
		b := access(tom(""))
		delete(b["context"].(map[string]any), "org")
		var d answer
		if code := post(t, base+"/access/v1/evaluation", c.token, b, &d); code != 200 || d.Decision != c.allow {
			t.Errorf("tom for a caller of %s: %d %+v, want %v", c.org, code, d, c.allow)
		}
	}
	// The metadata is public and names no org.
	code, raw := call(t, "GET", base+"/.well-known/authzen-configuration", "", nil)
	if code != 200 || strings.Contains(string(raw), "demo") || strings.Contains(string(raw), "rival") {
		t.Errorf("metadata: %d %s", code, raw)
	}
}
