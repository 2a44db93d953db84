package test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/testutil/oidctest"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// callAdmin sends an admin call with a bearer token and returns the status
// and the body.
func callAdmin(t *testing.T, method, url, token string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// TestUpgradeRoutesAuthorizedByTheEngine: `verdict serve` with sign-in on,
// acme in real Redis; the promotion, review and checklist routes are
// authorized by the decision engine like every admin route (rule 10), and
// applying a promotion needs both manage_access and change_active_policy on
// the project: the owner (manage_access only) and the runtime editor
// (change_active_policy only) may plan it but not apply it; the org admin
// may, and the audit names her.
func TestUpgradeRoutesAuthorizedByTheEngine(t *testing.T) {
	acme := filepath.Join(sharedDir, "acme.json")
	if _, err := os.Stat(acme); err != nil {
		t.Skipf("%s is absent (a user's clone)", acme)
	}
	rs := redistest.Start(t)
	issuer := oidctest.Start(t)
	importCorpus(t, rs.URL(), loadCorpus(t, acme))
	pdp := startPDP(t, serve.Config{RedisURL: rs.URL(), OIDCIssuer: issuer.URL(), OIDCAudience: oidctest.DefaultAudience})
	base := "http://" + pdp.Addr + "/admin/v1/orgs/acme"
	tok := func(user string) string { return issuer.Token(t, map[string]any{"sub": user, "org": "acme"}) }
	promotion := map[string]any{"from": "uat", "to": "prod"}
	for _, c := range []struct {
		name, user, method, path string
		body                     any
		status                   int
	}{
		{"the owner plans the promotion", "u-paul", "POST", "/projects/loans/promotion", promotion, 200},
		{"the owner may not change the active policy", "u-paul", "POST", "/projects/loans/promotion?apply=true", promotion, 403},
		{"the runtime editor may not share", "u-erin", "POST", "/projects/loans/promotion?apply=true", promotion, 403},
		{"a viewer plans it", "u-gina", "POST", "/projects/loans/promotion", promotion, 200},
		{"a designer of another project may not even plan it", "u-erin", "POST", "/projects/treasury/promotion", promotion, 403},
		{"a designer may not review the org", "u-dan", "GET", "/review?project=loans", nil, 403},
		{"a designer may not read the checklist", "u-dan", "GET", "/checklist", nil, 403},
		{"the org admin reviews", "u-olga", "GET", "/review?project=loans&environment=prod&format=csv", nil, 200},
		{"the org admin reads the checklist", "u-olga", "GET", "/checklist", nil, 200},
		{"the org admin promotes", "u-olga", "POST", "/projects/loans/promotion?apply=true", map[string]any{"from": "uat", "to": "prod", "justification": "release 9"}, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := callAdmin(t, c.method, base+c.path, tok(c.user), c.body)
			if code != c.status {
				t.Fatalf("%d, want %d: %s", code, c.status, body)
			}
		})
	}
	code, body := callAdmin(t, "GET", base+"/audit?limit=1000", tok("u-olga"), nil)
	var page struct {
		Items []struct{ Actor, Action, Justification string }
	}
	if err := json.Unmarshal(body, &page); err != nil || code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	last := page.Items[len(page.Items)-1]
	if last.Actor != "u-olga" || last.Action != "environment.promoted" || last.Justification != "release 9" {
		t.Fatalf("last audit entry %+v", last)
	}
}
