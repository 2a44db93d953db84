package console_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/verdict-pdp/verdict/internal/cmd/serve"
)

// devConsole starts `verdict serve --dev` (embedded store, demo org) and a
// client that keeps cookies and does not follow redirects.
func devConsole(t *testing.T) (string, *http.Client) {
	cfg := serve.Config{Addr: "127.0.0.1:0", Dev: true}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := serve.Start(context.Background(), &cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return "http://" + srv.Addr + "/console", &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// text strips tags and entities' most common forms, for reading a page.
func text(page string) string {
	s := regexp.MustCompile(`<[^>]*>`).ReplaceAllString(page, " ")
	s = strings.NewReplacer("&#39;", "'", "&#34;", `"`, "&amp;", "&", "&rarr;", "→").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// TestDevConsoleExplainsInAdminWords: `make run`'s console shows the demo org
// signed in as its admin, says so on every page, and the simulator explains
// a designer bypass, a group override, a hidden component and a deprecated
// role override in the words of FlowX's screens.
func TestDevConsoleExplainsInAdminWords(t *testing.T) {
	base, c := devConsole(t)
	for _, p := range []string{"/", "/users", "/users/u-tom", "/roles", "/groups", "/groups/Pilot%20users", "/solutions",
		"/solutions/mortgage/prod/share", "/solutions/mortgage/uat/policy", "/audit", "/test"} {
		code, page := get(t, c, base+p)
		if code != http.StatusOK || !strings.Contains(page, "Development server:") || !strings.Contains(page, `<strong id="org">demo</strong>`) {
			t.Errorf("%s: %d, dev banner and org shown: %v", p, code, strings.Contains(page, "Development server:"))
		}
	}
	cases := []struct{ query, want string }{
		{"who=user:u-lee&env=prod", "Designer-user bypass: lee is a designer user with designer access to this solution (project_editor on project mortgage via group mortgage_team; project_owner on project mortgage via user u-lee), so they run it without any runtime role"},
		{"who=user:u-maria&env=prod", "maria can open the solution: build m2 is served by a group override in Runtime Settings → Active Policy."},
		{"who=user:u-maria&env=prod", "Active Policy: the group override for Pilot users (priority 1) serves build m2"},
		{"who=user:u-tom&env=prod", "Component approve of UI flow review is hidden for tom: component approve is hidden for role Teller."},
		{"who=user:u-tom&env=uat", "DEPRECATED: the role override for Supervisor has no runtime effect"},
		{"who=user:u-sam&env=prod", "sam cannot open the solution: the end user is not active (invited or disabled)"},
	}
	for _, tc := range cases {
		code, page := get(t, c, base+"/test?project=mortgage&"+tc.query)
		if code != http.StatusOK || !strings.Contains(text(page), tc.want) {
			t.Errorf("%s: %d, lacks %q", tc.query, code, tc.want)
		}
	}
	// A decision about tom keeps what he is served with his facts; the
	// simulator's copy of them must not reuse it once changed.
	api := strings.TrimSuffix(base, "/console")
	r, err := c.Post(api+"/access/v1/evaluation", "application/json", strings.NewReader(`{"subject": {"type": "user", "id": "u-tom"},
		"action": {"name": "access"}, "resource": {"type": "solution", "id": "mortgage"}, "context": {"org": "demo", "environment": "prod"}}`))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	_, page := get(t, c, base+"/test?project=mortgage&env=prod&who=user:u-tom&add_group=Pilot+users")
	if !strings.Contains(text(page), "Solution: can open, build m1 (default) → can open, build m2 (group override)") {
		t.Errorf("tom joining Pilot users: %s", text(page))
	}
	_, policy := get(t, c, base+"/solutions/mortgage/uat/policy")
	if !strings.Contains(text(policy), "role DEPRECATED Supervisor 5 Build m1 — no runtime effect") {
		t.Errorf("Active Policy of uat does not mark the role override deprecated: %s", text(policy))
	}
	_, share := get(t, c, base+"/solutions/mortgage/prod/share")
	if !strings.Contains(text(share), "Roles offered are those of the Active Policy build m1") {
		t.Errorf("share dialog: %s", text(share))
	}
}

// TestSimulatorWritesNothing: a hypothetical user in a group, with a role
// shared, is evaluated on a copy of the facts: the answer changes, and the
// org does not (no audit line, no user).
func TestSimulatorWritesNothing(t *testing.T) {
	base, c := devConsole(t)
	_, before := get(t, c, base+"/audit")
	q := url.Values{"project": {"mortgage"}, "env": {"prod"}, "who": {"hypothetical"}, "hyp_name": {"pat"},
		"hyp_attrs": {"branch: east, west"}, "hyp_groups": {"Pilot users"}, "share_to": {"user"}, "share_roles": {"Customer"}}
	code, page := get(t, c, base+"/test?"+q.Encode())
	body := text(page)
	for _, want := range []string{
		"pat (hypothetical) cannot open the solution: no runtime role",
		"Solution: cannot open (no runtime role) → can open, build m2 (group override)",
		"UI flow calculator: not offered → can launch",
	} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("hypothetical: %d, lacks %q", code, want)
		}
	}
	if strings.Contains(page, `value="share"`) && !strings.Contains(page, "Save: share") {
		t.Error("save form without its label")
	}
	_, after := get(t, c, base+"/audit")
	if text(before) != text(after) {
		t.Errorf("simulating wrote something:\nbefore: %s\nafter:  %s", text(before), text(after))
	}
	if _, users := get(t, c, base+"/users"); strings.Contains(users, "hypothetical") {
		t.Error("the hypothetical user was written")
	}
}

// TestFormsNeedTheCSRFToken: a write without the session's token is refused
// and changes nothing; with it, it lands (and is audited). The session
// cookie is HttpOnly and SameSite=Lax.
func TestFormsNeedTheCSRFToken(t *testing.T) {
	base, c := devConsole(t)
	resp, err := c.Get(base + "/groups")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var sc *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "verdict_console" {
			sc = ck
		}
	}
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Secure {
		t.Errorf("session cookie: %+v (want HttpOnly, SameSite=Lax, Secure only under TLS)", sc)
	}
	m := csrfField.FindStringSubmatch(string(page))
	if m == nil {
		t.Fatal("no CSRF field on the groups page")
	}
	for _, token := range []string{"", "forged"} {
		r, err := c.PostForm(base+"/groups", url.Values{"csrf": {token}, "name": {"Sneaky"}})
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("csrf %q: %d, want 403", token, r.StatusCode)
		}
	}
	if code, _ := get(t, c, base+"/groups/Sneaky"); code != http.StatusNotFound {
		t.Errorf("a refused form created the group: %d", code)
	}
	r, err := c.PostForm(base+"/groups", url.Values{"csrf": {m[1]}, "name": {"Night shift"}, "attr_key": {"region"}, "attr_values": {"north, harbour"}})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "/console/groups/Night%20shift") {
		t.Fatalf("create group: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if _, g := get(t, c, base+"/groups/Night%20shift"); !strings.Contains(g, `value="north, harbour"`) {
		t.Error("group attribute not saved as comma-separated values")
	}
	// A bad write is refused by the admin rules, with the field at fault.
	r, _ = c.PostForm(base+"/groups", url.Values{"csrf": {m[1]}, "name": {"Bad/name"}})
	r.Body.Close()
	if loc := r.Header.Get("Location"); !strings.Contains(loc, "error=") || !strings.Contains(loc, "name") {
		t.Errorf("bad group name: %s", loc)
	}
	if _, a := get(t, c, base+"/audit?target=Night+shift"); !strings.Contains(a, "group.created") || !strings.Contains(a, "access console") {
		t.Error("the write is not in the audit trail with the console's justification")
	}
}
